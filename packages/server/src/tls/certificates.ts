/**
 * A listener's certificates, picked by the name a client asks for (SNI): an exact name first, then a wildcard
 * one label up (`*.example.com` covers `a.example.com`, not `a.b.example.com`, RFC 6125 §6.4.3), else the default
 * (the first certificate). Built whole from PEM and swapped whole on a change: a handshake sees one set or the
 * other, and connections already open keep the context they were made with.
 */
import { constants, X509Certificate } from 'node:crypto';
import tls, { type SecureContext } from 'node:tls';

export interface PemPair {
  /** The certificate then its chain. */
  readonly cert: string;
  readonly key: string;
}

export interface ContextOptions {
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  readonly ciphers: string;
  readonly sessionTickets: boolean;
  /** 48 bytes shared by every process, so that a ticket issued by one worker resumes on another. */
  readonly ticketKeys: Buffer;
}

export function createContext(pair: PemPair, options: ContextOptions): SecureContext {
  return tls.createSecureContext({
    cert: pair.cert,
    key: pair.key,
    minVersion: options.minVersion,
    ciphers: options.ciphers,
    ticketKeys: options.ticketKeys,
    // RFC 5077 tickets (TLS 1.2) and RFC 8446 §4.6.1 ones (1.3) both come from the ticket keys; off means none.
    secureOptions: options.sessionTickets ? 0 : constants.SSL_OP_NO_TICKET,
  });
}

/** The DNS names a certificate serves: its subjectAltName DNS entries, else its subject CN. Lower case. */
export function certificateNames(pem: string): string[] {
  const x509 = new X509Certificate(pem);
  const names = (x509.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4).toLowerCase());
  if (names.length > 0) return names;
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x509.subject)?.[1];
  return cn === undefined ? [] : [cn.toLowerCase()];
}

export class CertificateSet {
  private readonly exact = new Map<string, SecureContext>();
  /** '*.example.com' stored under 'example.com'. */
  private readonly wildcard = new Map<string, SecureContext>();
  private readonly fallback: SecureContext | undefined;

  /** Earlier pairs win a name both claim. Throws on a pair OpenSSL refuses (checked before, in material.ts). */
  constructor(pairs: readonly PemPair[], options: ContextOptions) {
    for (const pair of pairs) {
      const context = createContext(pair, options);
      this.fallback ??= context;
      for (const name of certificateNames(pair.cert)) {
        if (name.startsWith('*.')) {
          if (!this.wildcard.has(name.slice(2))) this.wildcard.set(name.slice(2), context);
        } else if (!this.exact.has(name)) this.exact.set(name, context);
      }
    }
  }

  /** The context for a client's server name (undefined: it sent none); undefined when there is no certificate. */
  select(servername: string | undefined): SecureContext | undefined {
    if (servername === undefined || servername === '') return this.fallback;
    const name = servername.endsWith('.') ? servername.slice(0, -1) : servername;
    const exact = this.exact.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    return (dot > 0 ? this.wildcard.get(name.slice(dot + 1)) : undefined) ?? this.fallback;
  }
}
