/**
 * The answers to ACME challenges in flight, as a proxy process serves them: HTTP-01 key authorizations by token
 * (RFC 8555 §8.3) and TLS-ALPN-01 certificates by name (RFC 8737 §3). The process that orders (the control plane)
 * decides them and sends each proxy the whole set; validation may reach any worker.
 */
import tls, { type SecureContext } from 'node:tls';
import type { PemPair } from '../tls/certificates.ts';

export interface ChallengeSet {
  /** token → key authorization. */
  readonly http: Readonly<Record<string, string>>;
  /** lower-case name → the self-signed certificate carrying the acmeIdentifier extension. */
  readonly alpn: Readonly<Record<string, PemPair>>;
}

export const NO_CHALLENGES: ChallengeSet = { http: {}, alpn: {} };

export const HTTP_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

export class ChallengeAnswers {
  private http = new Map<string, string>();
  private alpn = new Map<string, SecureContext>();

  apply(set: ChallengeSet): void {
    this.http = new Map(Object.entries(set.http));
    this.alpn = new Map(Object.entries(set.alpn).map(([name, pair]) => [name, tls.createSecureContext({ cert: pair.cert, key: pair.key })]));
  }

  /** The key authorization for a request target, when it asks for a token in flight. */
  httpAnswer(target: string): string | undefined {
    if (this.http.size === 0 || !target.startsWith(HTTP_CHALLENGE_PREFIX)) return undefined;
    return this.http.get(target.slice(HTTP_CHALLENGE_PREFIX.length));
  }

  alpnContext(servername: string): SecureContext | undefined {
    const name = servername.endsWith('.') ? servername.slice(0, -1) : servername;
    return this.alpn.get(name.toLowerCase());
  }
}
