/**
 * Where ACME keeps what it obtained, on disk under the configured directory (mode 0700):
 *   account.key                      the ACME account key (0600)
 *   certificates/<name>/cert.pem     the certificate and its chain
 *   certificates/<name>/key.pem      its private key (0600)
 * Each file is written whole to a temporary name and renamed into place: a reader never sees half of one.
 */
import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PemPair } from '../tls/certificates.ts';

export interface StoredCertificate extends PemPair {
  /** Epoch ms. */
  readonly notBefore: number;
  readonly notAfter: number;
}

export class AcmeStorage {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  async readAccountKey(): Promise<string | undefined> {
    return readOptional(join(this.dir, 'account.key'));
  }

  async writeAccountKey(pem: string): Promise<void> {
    await this.ensure(this.dir);
    await writeAtomic(join(this.dir, 'account.key'), pem, 0o600);
  }

  /** The stored certificate for `name`, or undefined when there is none or it cannot be read as one. */
  async readCertificate(name: string): Promise<StoredCertificate | undefined> {
    const dir = this.certDir(name);
    const [cert, key] = await Promise.all([readOptional(join(dir, 'cert.pem')), readOptional(join(dir, 'key.pem'))]);
    if (cert === undefined || key === undefined) return undefined;
    return withValidity({ cert, key });
  }

  async writeCertificate(name: string, pair: PemPair): Promise<void> {
    const dir = this.certDir(name);
    await this.ensure(dir);
    // The key first: a reader that finds a new certificate finds its key too.
    await writeAtomic(join(dir, 'key.pem'), pair.key, 0o600);
    await writeAtomic(join(dir, 'cert.pem'), pair.cert, 0o644);
  }

  private certDir(name: string): string {
    // Names are checked by the schema (letters, digits, dots, hyphens): safe as one path segment.
    return join(this.dir, 'certificates', name.toLowerCase());
  }

  private async ensure(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  }
}

/** A pair with its validity read from the certificate; undefined when it is not a certificate. */
export function withValidity(pair: PemPair): StoredCertificate | undefined {
  try {
    const x509 = new X509Certificate(pair.cert);
    return { ...pair, notBefore: Date.parse(x509.validFrom), notAfter: Date.parse(x509.validTo) };
  } catch {
    return undefined;
  }
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function writeAtomic(file: string, text: string, mode: number): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode });
  await chmod(temporary, mode); // the umask may have taken bits off
  await rename(temporary, file);
}
