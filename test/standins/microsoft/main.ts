/**
 * The Microsoft stand-in on its own, for running Calbridge against it by hand:
 *
 *   node test/standins/microsoft/main.ts --port 8092
 *
 * Seeds one account (standin@example.com, one calendar, a few events) that consents at once, and
 * prints the environment lines Calbridge needs. NODE_EXTRA_CA_CERTS must be set before Calbridge
 * starts, or Node will not trust the stand-in's certificate.
 */
import { parseArgs } from 'node:util';
import { standinTls } from '../tls.ts';
import { startMicrosoftStandin } from './standin.ts';

const { values } = parseArgs({ options: { port: { type: 'string', default: '8092' } } });
const standin = await startMicrosoftStandin({ port: Number(values.port) });
const email = 'standin@example.com';
const { calendarIds } = standin.addAccount({ email });
standin.consentAs(email);
const day = Math.ceil(Date.now() / 86_400_000) * 86_400_000;
for (let i = 0; i < 5; i++) {
  const start = new Date(day + i * 86_400_000 + 9 * 3_600_000);
  standin.putEvent(email, calendarIds[0]!, {
    subject: `Stand-in meeting ${i + 1}`,
    start,
    end: new Date(start.getTime() + 3_600_000),
    timeZone: 'W. Europe Standard Time',
  });
}

for (const [name, value] of Object.entries(standin.env)) console.log(`${name}=${value}`);
console.log(`NODE_EXTRA_CA_CERTS=${standinTls().caFile}`);

const stop = async () => {
  await standin.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
