/**
 * `node test/standins/google/main.ts [--port 8091] [--email ada@example.com]`: the Google stand-in on
 * its own, with one account that consents to every consent page, printing the environment lines
 * that point Calbridge at it. Stops on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startGoogleStandin } from './server.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8091' },
    email: { type: 'string', default: 'ada@example.com' },
  },
});

const standin = await startGoogleStandin({ port: Number(values.port) });
standin.addAccount({ email: values.email });
standin.consentAs(values.email);
for (const [name, value] of Object.entries(standin.env)) console.log(`${name}=${value}`);
console.error(`Google stand-in at ${standin.url}: ${values.email} consents automatically`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void standin.close().then(() => process.exit(0));
  });
}
