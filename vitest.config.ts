import { defineConfig } from 'vitest/config';
import { standinTls } from './test/standins/tls.ts';

// Stand-ins served over https (the Microsoft authority: MSAL refuses http) use a local test CA.
// Node trusts an extra CA only through NODE_EXTRA_CA_CERTS read at process start, so it is set here,
// in the main process, before vitest forks the workers that inherit it (tests reach no other https
// server, so no other CA is needed).
process.env.NODE_EXTRA_CA_CERTS = standinTls().caFile;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The Temporal native bridge and child processes want real processes, not worker threads.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['test/harness/global-setup.ts'],
  },
});
