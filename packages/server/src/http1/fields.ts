/**
 * Field lines of an HTTP/1.1 message head (RFC 9112 §5), parsed strictly, with the fields that decide framing
 * and connection handling read on the way. Strict where laxity enables request smuggling or response splitting:
 * obs-fold, whitespace before the colon, invalid names, control characters in values, and conflicting
 * Content-Length values are errors.
 */
import { Http1ParseError } from './errors.ts';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What Node's own writeHead rejects (field-vchar, SP and HTAB are allowed): such a value must not pass through. */
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const DIGITS = /^\d+$/;

export interface Fields {
  /** Flat [name, value, …] in the order received, names as sent. */
  readonly raw: string[];
  /** -1 when absent. */
  readonly contentLength: number;
  /** Whether a Transfer-Encoding field was present, and whether chunked is its final coding. */
  readonly transferEncoding: boolean;
  readonly chunked: boolean;
  /** Connection field values joined, lower case; '' when absent. */
  readonly connection: string;
  readonly hostCount: number;
  readonly host: string | undefined;
}

/** Parses lines[from..]; throws Http1ParseError. */
export function parseFields(lines: readonly string[], from: number): Fields {
  const raw: string[] = [];
  let contentLength = -1;
  let transferEncoding = false;
  let chunked = false;
  let connection = '';
  let hostCount = 0;
  let host: string | undefined;
  for (let i = from; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Http1ParseError('malformed header line');
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new Http1ParseError('invalid header name'); // also rejects obs-fold and "Name :"
    const value = line.slice(colon + 1).trim();
    if (BAD_VALUE.test(value)) throw new Http1ParseError('invalid header value');
    raw.push(name, value);
    // Cheap first-letter filter: most fields are none of these.
    const c = name.charCodeAt(0) | 0x20;
    if (c !== 0x63 && c !== 0x74 && c !== 0x68) continue;
    switch (name.toLowerCase()) {
      case 'content-length': {
        if (!DIGITS.test(value) || value.length > 15) throw new Http1ParseError('invalid content-length');
        const n = Number(value);
        if (contentLength >= 0 && n !== contentLength) throw new Http1ParseError('conflicting content-length');
        contentLength = n;
        break;
      }
      case 'transfer-encoding':
        transferEncoding = true;
        // RFC 9112 §6.3: chunked must be the final coding.
        chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
        break;
      case 'connection':
        connection = connection === '' ? value.toLowerCase() : `${connection}, ${value.toLowerCase()}`;
        break;
      case 'host':
        hostCount++;
        host = value;
        break;
    }
  }
  return { raw, contentLength, transferEncoding, chunked, connection, hostCount, host };
}

/**
 * Fields a Connection nomination may never remove (RFC 9110 §7.6.1 lets a sender name fields that end at the next
 * hop). Host routes the request; Content-Length and Transfer-Encoding frame it. A client that nominates them
 * would make Fulcrum and the backend read a different request: the nomination of these is ignored.
 */
const NOT_NOMINABLE = new Set(['host', 'content-length', 'transfer-encoding']);

/** Connection options that are not field names. */
const CONNECTION_OPTIONS = new Set(['close', 'keep-alive', 'upgrade']);

/**
 * The fields a Connection value nominates (lower case), or undefined when it names none (the common case:
 * `keep-alive`, `close`, `upgrade`).
 */
export function nominatedFields(connection: string): Set<string> | undefined {
  if (connection === '') return undefined;
  let named: Set<string> | undefined;
  for (const t of connection.toLowerCase().split(',')) {
    const token = t.trim();
    if (token !== '' && !CONNECTION_OPTIONS.has(token) && !NOT_NOMINABLE.has(token)) (named ??= new Set()).add(token);
  }
  return named;
}

/**
 * The end-to-end view of a message's fields: those the Connection field nominates are gone (they were for this
 * hop). Everything downstream of the parser (routing, cache keys, Vary, hashing, forwarding) reads this one list,
 * so that what Fulcrum decides on is what the backend receives.
 */
export function withoutNominated(raw: string[], connection: string): string[] {
  const named = nominatedFields(connection);
  if (named === undefined) return raw;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!named.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  return out;
}

/** Whether a Connection field value lists `token` (close, keep-alive, upgrade). */
export function hasToken(connection: string, token: string): boolean {
  if (connection === '') return false;
  for (const t of connection.split(',')) if (t.trim() === token) return true;
  return false;
}
