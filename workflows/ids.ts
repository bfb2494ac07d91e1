/** Readable, stable workflow ids, so an operator can type them into the Temporal UI. */
export const connectionWorkflowId = (connectionId: string) => `connection/${connectionId}`;
export const emailWorkflowId = (dedupeKey: string) => `email/${dedupeKey}`;
export const bookingWorkflowId = (bookingId: string) => `booking/${bookingId}`;
