/**
 * One StoredResponse as one Buffer, for the stores that keep bytes (redis, memcached):
 *
 *     offset 0    2         3          4                8              12             12 + h
 *            "FC" | version | reserved | header length h | body length b | header JSON | body
 *
 * The header is the JSON of everything but the body (url, status, headers, storedAt, tags, policy): small, so
 * stringifying it is cheap. The body is copied once into the output and never stringified, so a large body
 * costs one memcpy, not a pass of JSON escaping. Both lengths are written, so a truncated value is detected.
 * Decoding anything else (another version, another program's value, a truncated read) answers undefined, which
 * the stores treat as a miss; it never throws.
 */
import type { StoredResponse } from './store.ts';

const MAGIC_0 = 0x46; // 'F'
const MAGIC_1 = 0x43; // 'C'
/** Bump when the layout or the header's fields change: older values then read as misses, never as garbage. */
export const CODEC_VERSION = 1;
const PREFIX_BYTES = 12;
/** A value's backing buffer may be this much larger than twice the value before its body is copied out. */
const PIN_SLACK_BYTES = 8192;

interface Header {
  url: string;
  status: number;
  headers: string[];
  storedAt: number;
  tags: readonly string[];
  policy: Record<string, unknown>;
}

export function encodeStoredResponse(value: StoredResponse): Buffer {
  const header: Header = {
    url: value.url,
    status: value.status,
    headers: value.headers,
    storedAt: value.storedAt,
    tags: value.tags,
    policy: value.policy,
  };
  const json = JSON.stringify(header);
  const headerBytes = Buffer.byteLength(json, 'utf8');
  const body = value.body;
  const out = Buffer.allocUnsafe(PREFIX_BYTES + headerBytes + body.length);
  out[0] = MAGIC_0;
  out[1] = MAGIC_1;
  out[2] = CODEC_VERSION;
  out[3] = 0;
  out.writeUInt32BE(headerBytes, 4);
  out.writeUInt32BE(body.length, 8);
  out.write(json, PREFIX_BYTES, headerBytes, 'utf8');
  body.copy(out, PREFIX_BYTES + headerBytes);
  return out;
}

/**
 * The response `encodeStoredResponse` wrote, or undefined for anything else. The body is a view into `buf`
 * (no copy; the caller must not reuse `buf`), unless `buf` is itself a small part of a much larger buffer (a
 * client's socket read holding other replies): then the body is copied, so that an entry kept in memory does not
 * pin, unaccounted, a whole read buffer.
 */
export function decodeStoredResponse(buf: Buffer | null | undefined): StoredResponse | undefined {
  if (buf == null || buf.length < PREFIX_BYTES) return undefined;
  if (buf[0] !== MAGIC_0 || buf[1] !== MAGIC_1 || buf[2] !== CODEC_VERSION) return undefined;
  const headerBytes = buf.readUInt32BE(4);
  const bodyBytes = buf.readUInt32BE(8);
  if (PREFIX_BYTES + headerBytes + bodyBytes !== buf.length) return undefined;
  let header: unknown;
  try {
    header = JSON.parse(buf.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + headerBytes));
  } catch {
    return undefined;
  }
  if (!isHeader(header)) return undefined;
  const view = buf.subarray(PREFIX_BYTES + headerBytes);
  const body = buf.buffer.byteLength > 2 * buf.length + PIN_SLACK_BYTES ? Buffer.from(view) : view;
  return {
    url: header.url,
    status: header.status,
    headers: header.headers,
    body,
    storedAt: header.storedAt,
    tags: header.tags,
    policy: header.policy,
  };
}

function isHeader(h: unknown): h is Header {
  if (typeof h !== 'object' || h === null) return false;
  const o = h as Record<string, unknown>;
  return (
    typeof o.url === 'string' &&
    Number.isInteger(o.status) &&
    (o.status as number) >= 100 &&
    (o.status as number) <= 999 &&
    isStringArray(o.headers) &&
    o.headers.length % 2 === 0 &&
    typeof o.storedAt === 'number' &&
    Number.isFinite(o.storedAt) &&
    isStringArray(o.tags) &&
    typeof o.policy === 'object' &&
    o.policy !== null &&
    !Array.isArray(o.policy)
  );
}

function isStringArray(v: unknown): v is string[] {
  if (!Array.isArray(v)) return false;
  for (const s of v) if (typeof s !== 'string') return false;
  return true;
}
