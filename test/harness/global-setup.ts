// Placeholder replaced by the platform harness (PostgreSQL, Temporal dev server, worker).
export default async function setup(): Promise<void> {}
