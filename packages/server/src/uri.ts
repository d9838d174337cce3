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

/** RFC 3986 §3.2.2: the characters of a reg-name (escapes left out): 1, or 2 for an upper-case letter. */
const REG_NAME = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=") REG_NAME[c.charCodeAt(0)] = 1;
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') REG_NAME[c.charCodeAt(0)] = 2;

const IP_LITERAL = /^\[[0-9A-Fa-f:.]+\]$/;

/**
 * A Host value (or an absolute target's authority) in normal form (RFC 3986 §6.2.2.1, §6.2.3): lower case, one
 * trailing dot stripped (`example.com.` names `example.com`), the scheme's default port and an empty port
 * dropped. Empty stays empty (RFC 9112 §3.2: a target without authority). The value itself when already normal.
 */
export function normaliseAuthority(value: string, defaultPort = 80): string | Refused {
  if (value === '') return value;
  let end: number; // where the host ends: at the port's ':', or at the end
  let upper = false;
  if (value.charCodeAt(0) === 0x5b /* [ */) {
    end = value.indexOf(']') + 1;
    if (end === 0 || !IP_LITERAL.test(value.slice(0, end))) return BAD_HOST;
    upper = true; // rare enough to lower-case whatever it holds
  } else {
    for (end = 0; end < value.length; end++) {
      const c = value.charCodeAt(end);
      if (c === 0x3a /* : */) break;
      const kind = c < 128 ? REG_NAME[c]! : 0;
      if (kind === 0) return BAD_HOST;
      if (kind === 2) upper = true;
    }
  }
  if (end < value.length && value.charCodeAt(end) !== 0x3a) return BAD_HOST;
  let port = -1; // none
  for (let i = end + 1; i < value.length; i++) {
    const digit = value.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return BAD_HOST;
    port = (port < 0 ? 0 : port * 10) + digit;
    if (port > 65535) return BAD_HOST;
  }
  const dot = value.charCodeAt(end - 1) === 0x2e /* . */ ? 1 : 0;
  if (end - dot === 0) return BAD_HOST;
  // Kept: a port that is not the default, written without leading zeros. Dropped: the default, an empty one.
  const keepPort = port >= 0 && port !== defaultPort;
  const portAsIs = keepPort ? value.charCodeAt(end + 1) !== 0x30 /* 0 */ : end === value.length;
  if (!upper && dot === 0 && portAsIs) return value;
  const host = upper ? value.slice(0, end - dot).toLowerCase() : value.slice(0, end - dot);
  return keepPort ? `${host}:${port}` : host;
}

/** The host of a normal authority, without its port: what host routes match. */
export function hostOf(authority: string): string {
  if (authority.charCodeAt(0) === 0x5b /* [ */) return authority.slice(0, authority.indexOf(']') + 1);
  const colon = authority.indexOf(':');
  return colon < 0 ? authority : authority.slice(0, colon);
}
