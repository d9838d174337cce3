/**
 * Certificates for tests, made with the openssl command: a throwaway CA and leaf certificates signed by it for the
 * names a test asks (ECDSA P-256: quick to make). Files land in a fresh temporary folder.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCa {
  readonly dir: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** PEM, to trust in clients. */
  readonly cert: string;
}

export interface TestCert {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
}

export async function makeCa(name = 'Fulcrum Test CA'): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), 'fulcrum-ca-'));
  const certFile = join(dir, 'ca.pem');
  const keyFile = join(dir, 'ca.key');
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-days', '30', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { dir, certFile, keyFile, cert: await readFile(certFile, 'utf8') };
}

let serial = 0;

/** A leaf for `names` (DNS names, or IP addresses), signed by `ca`. `file` names the output files (reused: overwritten). */
export async function makeCert(ca: TestCa, names: readonly string[], file = `leaf-${++serial}`, days = 10): Promise<TestCert> {
  const certFile = join(ca.dir, `${file}.pem`);
  const keyFile = join(ca.dir, `${file}.key`);
  const csr = join(ca.dir, `${file}.csr`);
  const ext = join(ca.dir, `${file}.ext`);
  const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  await writeFile(ext, `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  await run('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${keyFile}.new`, '-out', csr, '-subj', `/CN=${names[0]}`]);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial', '-out', `${certFile}.new`, '-days', String(days), '-extfile', ext]);
  // Renamed into place, as certbot and most tools do: a reader never sees half a file.
  await rename(`${keyFile}.new`, keyFile);
  await rename(`${certFile}.new`, certFile);
  return { certFile, keyFile, cert: await readFile(certFile, 'utf8') };
}

/** openssl's date form for `ca -startdate/-enddate`: YYYYMMDDHHMMSSZ, UTC. */
function asn1Time(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
}

/** A leaf valid from `from` to `to` (epoch ms, in the past if wanted): `openssl ca` is the one that takes dates. */
export async function makeCertBetween(ca: TestCa, name: string, from: number, to: number): Promise<TestCert> {
  const base = join(ca.dir, `dated-${++serial}`);
  await writeFile(`${base}.index`, '');
  await writeFile(`${base}.serial`, `${(1000 + serial).toString(16).padStart(4, '0')}\n`);
  await writeFile(
    `${base}.cnf`,
    [
      '[ca]', 'default_ca = test', '[test]', `database = ${base}.index`, `serial = ${base}.serial`, `new_certs_dir = ${ca.dir}`,
      'default_md = sha256', 'policy = any', 'copy_extensions = none', 'x509_extensions = leaf', '[any]', 'commonName = supplied',
      '[leaf]', `subjectAltName = DNS:${name}`, 'basicConstraints = CA:FALSE', 'extendedKeyUsage = serverAuth', '',
    ].join('\n'),
  );
  await run('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${name}`]);
  await run('openssl', [
    'ca', '-batch', '-config', `${base}.cnf`, '-cert', ca.certFile, '-keyfile', ca.keyFile, '-in', `${base}.csr`, '-out', `${base}.pem`,
    '-startdate', asn1Time(from), '-enddate', asn1Time(to), '-notext',
  ]);
  return { certFile: `${base}.pem`, keyFile: `${base}.key`, cert: await readFile(`${base}.pem`, 'utf8') };
}
