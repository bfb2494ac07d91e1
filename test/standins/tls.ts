/**
 * A local certificate authority and a server certificate for 127.0.0.1 and localhost, for stand-ins
 * that must be reached over https (MSAL refuses an http authority). Made once with `openssl` into
 * .test-data/standin-tls/ and reused by every later run.
 *
 * Node's https and fetch trust an extra CA only through NODE_EXTRA_CA_CERTS, which Node reads when a
 * process starts: vitest.config.ts sets it before vitest forks its workers, so every test process
 * (and the worker processes tests start) trusts `caFile`. Synchronous for that reason: the config
 * cannot await.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';

export interface StandinTls {
  /** PEM of the CA: the value for NODE_EXTRA_CA_CERTS. */
  caFile: string;
  /** PEM key and certificate (127.0.0.1, localhost) for `https.createServer`. */
  key: string;
  cert: string;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIR = path.join(repoRoot, '.test-data', 'standin-tls');
const FILES = { ca: 'ca.pem', key: 'server-key.pem', cert: 'server.pem' };

export function standinTls(): StandinTls {
  if (!existsSync(path.join(DIR, FILES.cert))) create();
  return {
    caFile: path.join(DIR, FILES.ca),
    key: readFileSync(path.join(DIR, FILES.key), 'utf8'),
    cert: readFileSync(path.join(DIR, FILES.cert), 'utf8'),
  };
}

/** Made in a scratch folder and renamed into place, so concurrent first runs never see half a set. */
function create(): void {
  mkdirSync(path.dirname(DIR), { recursive: true });
  const work = mkdtempSync(`${DIR}-`);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: work, stdio: 'pipe' });
  try {
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '3650',
      '-subj',
      '/CN=Calbridge test CA',
      '-keyout',
      'ca-key.pem',
      '-out',
      FILES.ca,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-keyout',
      FILES.key,
      '-out',
      'server.csr',
    );
    writeFileSync(
      path.join(work, 'server.ext'),
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
    );
    openssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      FILES.ca,
      '-CAkey',
      'ca-key.pem',
      '-CAcreateserial',
      '-days',
      '3650',
      '-extfile',
      'server.ext',
      '-out',
      FILES.cert,
    );
    try {
      renameSync(work, DIR);
    } catch (error) {
      // Another process made the set first: use theirs.
      if (!existsSync(path.join(DIR, FILES.cert))) throw error;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Makes this process trust the CA from now on, for processes that cannot be started with
 * NODE_EXTRA_CA_CERTS (the benchmark runner). Node 24's default CA set then holds the CA too, for
 * https and fetch alike.
 */
export function trustStandinCaInProcess(): void {
  const ca = readFileSync(standinTls().caFile, 'utf8');
  const current = tls.getCACertificates('default');
  if (!current.includes(ca)) tls.setDefaultCACertificates([...current, ca]);
}
