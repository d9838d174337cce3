/**
 * Application protocols offered in the TLS handshake (ALPN, RFC 7301), most preferred first: 'h2' before
 * 'http/1.1' when the listener speaks HTTP/2 (`http2.tls`); downstream/server.ts hands each connection to the codec
 * of the protocol agreed.
 */
const WITH_H2: readonly string[] = ['h2', 'http/1.1'];
const HTTP1_ONLY: readonly string[] = ['http/1.1'];

export function alpnProtocols(http2: boolean): readonly string[] {
  return http2 ? WITH_H2 : HTTP1_ONLY;
}

/** TLS-ALPN-01 (RFC 8737 §6): a validation handshake, answered with the challenge certificate and nothing else. */
export const ACME_TLS_ALPN = 'acme-tls/1';
