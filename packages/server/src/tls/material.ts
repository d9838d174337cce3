/**
 * The TLS material the control plane hands every proxy process: the certificates read from each TLS listener's
 * files, those ACME obtained, and the session ticket key. Files are read here, once for all processes, and
 * checked before anything is swapped, so a bad file is refused with its path and the running certificates stay.
 */
import { randomBytes, X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import tls from 'node:tls';
import type { ConfigProblem } from '../config/load.ts';
import { listenersOf, type ListenerConfig } from '../config/listeners.ts';
import type { PemPair } from './certificates.ts';

export interface TlsMaterial {
  /** Base64 of 48 bytes (node:tls ticketKeys); one for every process, so that tickets resume on any worker. */
  readonly ticketKeys: string;
  /** Per listener (by index in `listeners`), the pairs read from its files; empty for a plain listener. */
  readonly files: readonly (readonly PemPair[])[];
  /** Certificates obtained by ACME, served by listeners with `tls.acme`. */
  readonly acme: readonly PemPair[];
}

export function newTicketKeys(): string {
  return randomBytes(48).toString('base64');
}

export type FilesResult = { ok: true; files: PemPair[][] } | { ok: false; problems: ConfigProblem[] };

/** Reads and checks every listener's certificate files: each problem names the listener and the file. */
export async function readCertificateFiles(config: { listen?: string | undefined; listeners?: readonly ListenerConfig[] | undefined }): Promise<FilesResult> {
  const problems: ConfigProblem[] = [];
  const files = await Promise.all(
    listenersOf(config).map(async (listener, i) =>
      Promise.all(
        (listener.tls?.certificates ?? []).map(async (c, j) => {
          const at = `listeners[${i}].tls.certificates[${j}]`;
          const [cert, key] = await Promise.all([
            readPem(c.cert, `${at}.cert`, problems),
            readPem(c.key, `${at}.key`, problems),
          ]);
          if (cert === undefined || key === undefined) return undefined;
          const problem = checkPair({ cert, key });
          if (problem !== undefined) problems.push({ path: at, message: `${c.cert}, ${c.key}: ${problem}` });
          return { cert, key };
        }),
      ),
    ),
  );
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, files: files.map((pairs) => pairs.filter((p): p is PemPair => p !== undefined)) };
}

async function readPem(file: string, path: string, problems: ConfigProblem[]): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    problems.push({ path, message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    return undefined;
  }
}

/** Why a pair cannot be served (not PEM, key not the certificate's, expired), or undefined when it can. */
export function checkPair(pair: PemPair): string | undefined {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(pair.cert);
  } catch {
    return 'not a PEM certificate';
  }
  try {
    if (!x509.checkPrivateKey(createPrivateKey(pair.key))) return 'the key is not the certificate\'s';
    tls.createSecureContext({ cert: pair.cert, key: pair.key });
  } catch (err) {
    return `not a usable key: ${(err as Error).message}`;
  }
  if (Date.parse(x509.validTo) < Date.now()) return `the certificate expired on ${x509.validTo}`;
  return undefined;
}

/** Every certificate file of a config, to watch for changes. */
export function certificatePaths(config: { listen?: string | undefined; listeners?: readonly ListenerConfig[] | undefined }): string[] {
  return [...new Set(listenersOf(config).flatMap((l) => (l.tls?.certificates ?? []).flatMap((c) => [c.cert, c.key])))];
}
