/**
 * Application protocols offered in the TLS handshake (ALPN, RFC 7301), most preferred first. HTTP/2 (issue 11,
 * part 3) is added here as 'h2' before 'http/1.1', with its branch in downstream/server.ts `onSecure`, which hands
 * each connection to the codec of the protocol agreed.
 */
export const ALPN_PROTOCOLS: readonly string[] = ['http/1.1'];

/** TLS-ALPN-01 (RFC 8737 §6): a validation handshake, answered with the challenge certificate and nothing else. */
export const ACME_TLS_ALPN = 'acme-tls/1';
