/**
 * What an intermediary must do to headers (RFC 9110 §7.6): drop hop-by-hop fields, including those named in
 * Connection; append X-Forwarded-For/-Proto/-Host (kept from trusted proxies only); add Via; carry a request ID.
 * The request head is scanned once; everything the pipeline needs from it is read in that pass.
 */
import { randomBytes } from 'node:crypto';
import { nominatedFields } from '../http1/fields.ts';
import { hostOf, normaliseAuthority, normalisePath, Refused } from '../uri.ts';
import { LOAD_HEADER } from './load-report.ts';

export const VIA = '1.1 fulcrum';

/** RFC 9110 §7.6.1, plus Proxy-Connection, which old clients still send. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * Dropped as well: Content-Length is written by whoever frames the body; Expect is answered by Fulcrum itself
 * (100-continue); X-Forwarded-* are rebuilt.
 */
const REBUILT = new Set(['content-length', 'expect', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'via']);

const REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

/** The headers of one request that Fulcrum itself reads, from a single pass over the raw headers. */
export interface ScannedHead {
  /**
   * The target in origin form as sent to the backend: the normal path (see src/uri.ts), then the query as
   * received; '*' for OPTIONS *.
   */
  target: string;
  /** The normal path of the target, without the query: what routes, cache keys and hash keys read. */
  path: string;
  /**
   * True when `hostHeader` replaces the client's Host field upstream: the target was in absolute form (its
   * authority wins, RFC 9112 §3.2.2), or the Host was not in normal form (case, trailing dot, default port).
   */
  hostReplaced: boolean;
  /** The host without port, in normal form (lower case, no trailing dot); empty when absent. What routes match. */
  host: string;
  /** The authority as forwarded and keyed, in normal form (a non-default port kept); undefined when absent. */
  hostHeader: string | undefined;
  requestId: string | undefined;
  upgrade: string | undefined;
  forwardedFor: string | undefined;
  forwardedProto: string | undefined;
  forwardedHost: string | undefined;
  via: string | undefined;
}

/** The head of a request before (or refused by) the scan: its target as received, nothing else read. */
export function unscannedHead(url: string): ScannedHead {
  return {
    target: url,
    path: url,
    hostReplaced: false,
    host: '',
    hostHeader: undefined,
    requestId: undefined,
    upgrade: undefined,
    forwardedFor: undefined,
    forwardedProto: undefined,
    forwardedHost: undefined,
    via: undefined,
  };
}

/**
 * Reads the request target and head. Refused (the caller answers 400) when the target is not origin form
 * (`/path`), absolute form (`http://host/path`) nor `OPTIONS *`, when the method is CONNECT, or when the path or
 * Host cannot be put in the one normal form every later phase reads (src/uri.ts).
 */
export function scanRequestHead(method: string, url: string, raw: readonly string[]): ScannedHead | Refused {
  const head = unscannedHead(url);
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // Cheap first-letter filter: most headers are not among those read here.
    const c = name.charCodeAt(0) | 0x20;
    if (c !== 0x68 && c !== 0x78 && c !== 0x75 && c !== 0x76) continue;
    const value = raw[i + 1]!;
    switch (name.toLowerCase()) {
      case 'host':
        head.hostHeader = value; // normalised with the target, whose authority may replace it
        break;
      case 'x-request-id':
        if (REQUEST_ID.test(value)) head.requestId = value;
        break;
      case 'upgrade':
        head.upgrade = value;
        break;
      case 'x-forwarded-for':
        head.forwardedFor = head.forwardedFor === undefined ? value : `${head.forwardedFor}, ${value}`;
        break;
      case 'x-forwarded-proto':
        head.forwardedProto = value;
        break;
      case 'x-forwarded-host':
        head.forwardedHost = value;
        break;
      case 'via':
        head.via = head.via === undefined ? value : `${head.via}, ${value}`;
        break;
    }
  }
  return resolveTarget(head, method) ?? head;
}

const ABSOLUTE_FORM = /^(https?):\/\/([^/?#\s]+)([^#\s]*)$/i;

const CONNECT = new Refused('CONNECT is not supported'); // authority-form (RFC 9112 §3.2.3) asks for a tunnel
const ASTERISK = new Refused('the asterisk form is for OPTIONS only'); // RFC 9112 §3.2.4
const UNSUPPORTED_FORM = new Refused('unsupported request target');
const FRAGMENT = new Refused('a fragment in the request target'); // never sent (RFC 9112 §3.2)

/**
 * Puts the target and authority in normal form (src/uri.ts): the path and Host that routes, cache keys, purges
 * and the backend all see. Undefined when it could; what refused it otherwise.
 */
function resolveTarget(head: ScannedHead, method: string): Refused | undefined {
  if (method === 'CONNECT') return CONNECT;
  let target = head.target;
  let authority = head.hostHeader;
  let defaultPort = 80;
  if (target.charCodeAt(0) !== 0x2f /* / */) {
    if (target === '*') return method === 'OPTIONS' ? resolveAuthority(head, authority, defaultPort) : ASTERISK;
    const m = ABSOLUTE_FORM.exec(target);
    if (!m) return UNSUPPORTED_FORM;
    if (m[1]!.length === 5) defaultPort = 443; // https
    authority = m[2]!.slice(m[2]!.lastIndexOf('@') + 1); // userinfo is not forwarded
    target = m[3] === '' ? '/' : m[3]!.charCodeAt(0) === 0x3f /* ? */ ? `/${m[3]}` : m[3]!;
    head.hostReplaced = true;
  } else if (target.includes('#')) return FRAGMENT;
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const path = normalisePath(rawPath);
  if (path instanceof Refused) return path;
  head.path = path;
  head.target = path === rawPath ? target : q < 0 ? path : path + target.slice(q);
  return resolveAuthority(head, authority, defaultPort);
}

/** Host and hostHeader from the authority in normal form; Host is replaced upstream when that changed it. */
function resolveAuthority(head: ScannedHead, authority: string | undefined, defaultPort: number): Refused | undefined {
  if (authority === undefined) return undefined;
  const normal = normaliseAuthority(authority, defaultPort);
  if (normal instanceof Refused) return normal;
  if (normal !== head.hostHeader) head.hostReplaced = true;
  head.hostHeader = normal;
  head.host = hostOf(normal);
  return undefined;
}

/** 32 hex digits like nginx's $request_id: a random per-process prefix and a counter (unique, and cheap). */
const ID_PREFIX = randomBytes(8).toString('hex');
let idCounter = 0;

export function newRequestId(): string {
  idCounter = (idCounter + 1) % 0xffffffffffff;
  return ID_PREFIX + idCounter.toString(16).padStart(16, '0');
}

export interface Forwarding {
  readonly clientIp: string;
  /** Whether the direct peer is a trusted proxy, whose X-Forwarded-* are kept. */
  readonly trusted: boolean;
  readonly requestId: string;
  /** The client's request came over TLS (X-Forwarded-Proto: https). */
  readonly secure: boolean;
}

/**
 * The header list sent to the backend, as a flat [name, value, …] array. `raw` is the request's end-to-end view
 * (fields its Connection nominated are already gone: DownstreamRequest). Content-Length is never copied: the
 * upstream connection frames the body from what the parser decided (UpstreamBody), so no field a client sent
 * can make the backend read the body differently.
 */
export function upstreamHeaders(raw: readonly string[], head: ScannedHead, fwd: Forwarding): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || REBUILT.has(lower)) continue;
    if (head.hostReplaced && lower === 'host') continue;
    if (lower === 'forwarded' && !fwd.trusted) continue; // RFC 7239: only a trusted proxy's say is kept
    out.push(name, raw[i + 1]!);
  }
  if (head.hostReplaced) out.push('host', head.hostHeader!);
  const keep = fwd.trusted;
  out.push(
    'x-forwarded-for',
    keep && head.forwardedFor !== undefined ? `${head.forwardedFor}, ${fwd.clientIp}` : fwd.clientIp,
    'x-forwarded-proto',
    keep && head.forwardedProto !== undefined ? head.forwardedProto : fwd.secure ? 'https' : 'http',
  );
  const fwdHost = keep && head.forwardedHost !== undefined ? head.forwardedHost : head.hostHeader;
  if (fwdHost !== undefined) out.push('x-forwarded-host', fwdHost);
  out.push('via', head.via === undefined ? VIA : `${head.via}, ${VIA}`, 'x-request-id', fwd.requestId);
  return out;
}

/**
 * The backend's response headers without hop-by-hop fields, with Via appended, as a new flat list to which the
 * pipeline adds its own fields. Content-Length is not copied: `contentLength` is the one the parser framed the
 * body by (-1 when it was chunked or ran to the close), written once, so repeated or nominated copies cannot
 * reach the client. It stays off 1xx and 204 responses, which have no content (RFC 9110 §8.6).
 */
export function downstreamHeaders(raw: readonly string[], status: number, contentLength: number): string[] {
  let named: Set<string> | undefined;
  let via: string | undefined;
  let out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'connection') {
        const tokens = nominatedFields(raw[i + 1]!);
        if (tokens) for (const t of tokens) (named ??= new Set()).add(t);
      }
      continue;
    }
    if (lower === 'content-length' || lower === LOAD_HEADER) continue; // LOAD_HEADER: for the balancer only
    if (lower === 'via') via = via === undefined ? raw[i + 1] : `${via}, ${raw[i + 1]}`;
    else out.push(raw[i]!, raw[i + 1]!);
  }
  // Rare: fields named in Connection are dropped in a second pass, as they may come before it.
  if (named !== undefined) out = out.filter((_, i, all) => !named.has(all[i - (i % 2)]!.toLowerCase()));
  if (contentLength >= 0 && status >= 200 && status !== 204) out.push('content-length', String(contentLength));
  out.push('via', via === undefined ? VIA : `${via}, ${VIA}`);
  return out;
}
