/**
 * The one form of a request's path and authority that routes, cache keys, purges, hash keys and the backend all
 * read (RFC 3986 §6.2.2). Fulcrum forwards the form it normalised, as nginx does with a URI in proxy_pass, so no
 * two of them can disagree on what a request names. What a backend could still read as another path than
 * Fulcrum does is refused rather than guessed at: a dot segment spelled with %2e or carrying ;parameters (which
 * Tomcat strips), an encoded slash or backslash, a raw backslash, a malformed escape, a `..` above the root.
 */

/** Why a target or authority was refused. A few fixed instances: the common case allocates nothing. */
export class Refused {
  readonly reason: string;

  constructor(reason: string) {
    this.reason = reason;
  }
}

const BACKSLASH = new Refused('backslash in the path');
const ENCODED_SEPARATOR = new Refused('encoded slash or backslash in the path');
const BAD_ESCAPE = new Refused('malformed percent-encoding in the path');
const HIDDEN_DOT_SEGMENT = new Refused('dot segment with an escape or parameters in the path');
const ABOVE_ROOT = new Refused('the path climbs above the root');
const BAD_HOST = new Refused('invalid host');

/** Only a path with one of these needs work: '/.' (maybe a dot segment), '//', an escape, a backslash. */
const NEEDS_WORK = /\/\.|\/\/|[%\\]/;

/**
 * A path (from its leading '/', without the query) in normal form: escapes of unreserved characters decoded and
 * the others' hex digits upper-cased (RFC 3986 §6.2.2.1-2), dot segments removed (§5.2.4, §6.2.2.3) and repeated
 * slashes merged (as nginx's merge_slashes). The path itself when it is already normal.
 */
export function normalisePath(path: string): string | Refused {
  if (!NEEDS_WORK.test(path)) return path;
  if (path.includes('\\')) return BACKSLASH; // a separator to Windows servers, an ordinary byte to others
  const segments = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const raw = segments[i]!;
    const last = i === segments.length - 1;
    const seg = raw.includes('%') ? decodeUnreserved(raw) : raw;
    if (seg instanceof Refused) return seg;
    if (seg === '..') {
      if (raw !== seg) return HIDDEN_DOT_SEGMENT;
      if (out.length === 0) return ABOVE_ROOT; // nginx refuses it too: no backend should see what it meant
      out.pop();
      if (last) out.push('');
    } else if (seg === '.' || (seg === '' && !last)) {
      if (raw !== seg) return HIDDEN_DOT_SEGMENT;
      if (last) out.push('');
    } else if (isDotWithParameters(seg)) {
      return HIDDEN_DOT_SEGMENT; // `..;x` is `..` to Tomcat and a name to everyone else
    } else out.push(seg);
  }
  const normal = `/${out.join('/')}`;
  return normal === path ? path : normal;
}

function isDotWithParameters(seg: string): boolean {
  const semi = seg.indexOf(';');
  return semi === 1 ? seg.charCodeAt(0) === 0x2e : semi === 2 && seg.charCodeAt(0) === 0x2e && seg.charCodeAt(1) === 0x2e;
}

/** One segment with escapes of unreserved characters decoded and the others upper-cased; refused: %2F, %5C. */
function decodeUnreserved(seg: string): string | Refused {
  let out = '';
  let from = 0;
  for (let i = seg.indexOf('%'); i >= 0; i = seg.indexOf('%', i + 3)) {
    const hi = hexValue(seg.charCodeAt(i + 1));
    const lo = hexValue(seg.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return BAD_ESCAPE;
    const code = hi * 16 + lo;
    if (code === 0x2f || code === 0x5c) return ENCODED_SEPARATOR; // some backends decode it before splitting
    out += seg.slice(from, i) + (isUnreserved(code) ? String.fromCharCode(code) : seg.slice(i, i + 3).toUpperCase());
    from = i + 3;
  }
  return out + seg.slice(from);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** RFC 3986 §2.3: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function isUnreserved(c: number): boolean {
  const lower = c | 0x20;
  return (lower >= 0x61 && lower <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
}

/** RFC 3986 §3.2.2-3: an IPv6 literal, or a name or IPv4 address without escapes; then an optional port. */
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=]+)(?::[0-9]*)?$/;

/**
 * A Host value (or an absolute target's authority) in normal form (RFC 3986 §6.2.2.1, §6.2.3): lower case, one
 * trailing dot stripped (`example.com.` names `example.com`), the scheme's default port and an empty port
 * dropped. Empty stays empty (RFC 9112 §3.2: a target without authority).
 */
export function normaliseAuthority(value: string, defaultPort = '80'): string | Refused {
  if (value === '') return value;
  if (!AUTHORITY.test(value)) return BAD_HOST;
  const close = value.charCodeAt(0) === 0x5b /* [ */ ? value.indexOf(']') : -1;
  const colon = value.indexOf(':', close + 1);
  let host = colon < 0 ? value : value.slice(0, colon);
  if (host.charCodeAt(host.length - 1) === 0x2e /* . */) host = host.slice(0, -1);
  if (host === '') return BAD_HOST;
  host = host.toLowerCase();
  const port = colon < 0 ? '' : value.slice(colon + 1);
  if (port === '' || port === defaultPort) return host;
  const n = Number(port);
  if (n > 65535) return BAD_HOST;
  const canonical = port.charCodeAt(0) === 0x30 /* 0 */ ? String(n) : port;
  return canonical === defaultPort ? host : `${host}:${canonical}`;
}

/** The host of a normal authority, without its port: what host routes match. */
export function hostOf(authority: string): string {
  if (authority.charCodeAt(0) === 0x5b /* [ */) return authority.slice(0, authority.indexOf(']') + 1);
  const colon = authority.indexOf(':');
  return colon < 0 ? authority : authority.slice(0, colon);
}
