/**
 * Reads what Fulcrum needs from a TLS ClientHello before the handshake starts: the server name (SNI, RFC 6066 §3)
 * and the offered application protocols (ALPN, RFC 7301). Node's TLS server cannot choose a certificate by ALPN,
 * which TLS-ALPN-01 (RFC 8737) needs, so the hello is read here and the certificate chosen before OpenSSL sees it.
 * Pure: bytes in, a verdict out; the bytes are then handed to OpenSSL unchanged.
 */

export type HelloVerdict =
  | { readonly kind: 'partial' }
  | { readonly kind: 'hello'; readonly servername: string | undefined; readonly alpn: readonly string[] }
  | { readonly kind: 'invalid'; readonly reason: string };

/** A ClientHello larger than this (its records' payloads together) is refused: real ones are under 2 KiB. */
export const MAX_HELLO_BYTES = 16 * 1024;

const RECORD_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;

const PARTIAL: HelloVerdict = { kind: 'partial' };
const invalid = (reason: string): HelloVerdict => ({ kind: 'invalid', reason });

/**
 * `data`: the bytes received so far. The hello may span several records (RFC 8446 §5.1 allows a handshake message
 * to be fragmented); their payloads are joined until the message is whole.
 */
export function readClientHello(data: Buffer): HelloVerdict {
  const payloads: Buffer[] = [];
  let have = 0;
  let offset = 0;
  let needed = -1;
  for (;;) {
    if (data.length < offset + 5) return data.length > MAX_HELLO_BYTES + 5 ? invalid('too large') : PARTIAL;
    if (data[offset] !== RECORD_HANDSHAKE) return invalid('not a TLS handshake');
    if (data[offset + 1] !== 3) return invalid('not TLS');
    const length = data.readUInt16BE(offset + 3);
    if (length === 0) return invalid('empty record');
    if (data.length < offset + 5 + length) return PARTIAL;
    const payload = data.subarray(offset + 5, offset + 5 + length);
    payloads.push(payload);
    have += payload.length;
    offset += 5 + length;
    if (needed < 0 && have >= 4) {
      const first = payloads.length === 1 ? payloads[0]! : Buffer.concat(payloads);
      if (first[0] !== HANDSHAKE_CLIENT_HELLO) return invalid('not a ClientHello');
      needed = 4 + first.readUIntBE(1, 3);
      if (needed > MAX_HELLO_BYTES) return invalid('too large');
    }
    if (needed >= 0 && have >= needed) break;
  }
  const message = payloads.length === 1 ? payloads[0]! : Buffer.concat(payloads);
  try {
    return parseHelloBody(message.subarray(4, needed));
  } catch {
    return invalid('malformed ClientHello');
  }
}

/** The ClientHello body (RFC 8446 §4.1.2); a read past the end throws (RangeError), caught above. */
function parseHelloBody(body: Buffer): HelloVerdict {
  let p = 2 + 32; // legacy_version, random
  p += 1 + body.readUInt8(p); // legacy_session_id
  p += 2 + body.readUInt16BE(p); // cipher_suites
  p += 1 + body.readUInt8(p); // legacy_compression_methods
  if (p === body.length) return { kind: 'hello', servername: undefined, alpn: [] }; // no extensions (old clients)
  const end = p + 2 + body.readUInt16BE(p);
  if (end > body.length) return invalid('extensions overrun');
  p += 2;
  let servername: string | undefined;
  let alpn: string[] = [];
  while (p + 4 <= end) {
    const type = body.readUInt16BE(p);
    const length = body.readUInt16BE(p + 2);
    const ext = body.subarray(p + 4, p + 4 + length);
    if (ext.length !== length || p + 4 + length > end) return invalid('extension overrun');
    if (type === EXT_SERVER_NAME) servername = serverName(ext);
    else if (type === EXT_ALPN) alpn = protocols(ext);
    p += 4 + length;
  }
  return { kind: 'hello', servername, alpn };
}

/** The host_name entry of a server_name extension, lower-cased; undefined when there is none. */
function serverName(ext: Buffer): string | undefined {
  const end = Math.min(ext.length, 2 + ext.readUInt16BE(0));
  let p = 2;
  while (p + 3 <= end) {
    const type = ext.readUInt8(p);
    const length = ext.readUInt16BE(p + 1);
    if (type === 0 && p + 3 + length <= end) return ext.toString('latin1', p + 3, p + 3 + length).toLowerCase();
    p += 3 + length;
  }
  return undefined;
}

function protocols(ext: Buffer): string[] {
  const out: string[] = [];
  const end = Math.min(ext.length, 2 + ext.readUInt16BE(0));
  let p = 2;
  while (p < end) {
    const length = ext.readUInt8(p);
    if (length === 0 || p + 1 + length > end) break;
    out.push(ext.toString('latin1', p + 1, p + 1 + length));
    p += 1 + length;
  }
  return out;
}
