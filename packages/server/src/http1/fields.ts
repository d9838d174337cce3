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
  /** Every transfer coding of every Transfer-Encoding field, in order, lower case. */
  readonly transferCodings: readonly string[];
  /** Connection field values joined, lower case; '' when absent. */
  readonly connection: string;
  readonly hostCount: number;
  readonly host: string | undefined;
}

/**
 * Parses lines[from..]; throws Http1ParseError. Refused, because a server behind could read them otherwise (llhttp
 * does, and is the reference of test/unit/http1/differential.test.ts): a Content-Length repeated with another
 * spelling, chunked applied twice, an empty or malformed transfer coding, whitespace other than SP and HTAB.
 */
export function parseFields(lines: readonly string[], from: number): Fields {
  const raw: string[] = [];
  let contentLength = -1;
  let lengthText = '';
  const transferCodings: string[] = [];
  let connection = '';
  let hostCount = 0;
  let host: string | undefined;
  for (let i = from; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Http1ParseError('malformed header line');
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new Http1ParseError('invalid header name'); // also rejects obs-fold and "Name :"
    const value = trimOws(line.slice(colon + 1));
    if (BAD_VALUE.test(value)) throw new Http1ParseError('invalid header value');
    raw.push(name, value);
    // Cheap first-letter filter: most fields are none of these.
    const c = name.charCodeAt(0) | 0x20;
    if (c !== 0x63 && c !== 0x74 && c !== 0x68) continue;
    switch (name.toLowerCase()) {
      case 'content-length':
        if (!DIGITS.test(value) || value.length > 15) throw new Http1ParseError('invalid content-length');
        if (contentLength >= 0 && value !== lengthText) throw new Http1ParseError('conflicting content-length');
        contentLength = Number(value);
        lengthText = value;
        break;
      case 'transfer-encoding':
        readCodings(value, transferCodings);
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
  const transferEncoding = transferCodings.length > 0;
  // RFC 9112 §6.3: chunked must be the final coding; readCodings refused it anywhere else.
  const chunked = transferEncoding && transferCodings[transferCodings.length - 1] === 'chunked';
  return { raw, contentLength, transferEncoding, chunked, transferCodings, connection, hostCount, host };
}

/** Appends the codings of one Transfer-Encoding value; chunked only once, and last (RFC 9112 §7). */
function readCodings(value: string, codings: string[]): void {
  for (const part of value.split(',')) {
    const coding = trimOws(part).toLowerCase();
    if (!TOKEN.test(coding)) throw new Http1ParseError('invalid transfer coding');
    if (codings[codings.length - 1] === 'chunked') throw new Http1ParseError('a transfer coding after chunked');
    codings.push(coding);
  }
}

/** Strips optional whitespace (RFC 9110 §5.6.3: SP and HTAB only; String.trim would also take VT, FF, NBSP). */
function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Whether a line is a valid field line (trailers; heads go through parseFields). */
export function isFieldLine(line: string): boolean {
  const colon = line.indexOf(':');
  return colon > 0 && TOKEN.test(line.slice(0, colon)) && !BAD_VALUE.test(trimOws(line.slice(colon + 1)));
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
  // Nearly every message: one option and no field name (no split, no set).
  if (connection === '' || connection === 'keep-alive' || connection === 'close') return undefined;
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
