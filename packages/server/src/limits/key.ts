/**
 * What a rate limit counts a request by, read once per request: the client's address (through trusted proxies),
 * the route as a whole, a header or a cookie. Keys carry a one-character tag so that a header value can never
 * pose as an address: `@` an address, `=` a header or cookie value, nothing for the route.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { cookieValue } from '../balancing/request-key.ts';

/** What key readers see of a request. */
export interface KeyedRequest {
  /** The direct peer's address. */
  readonly clientIp: string;
  /** X-Forwarded-For as received (repeated fields joined), if any. */
  readonly forwardedFor: string | undefined;
  header(name: string): string | undefined;
}

export type IsTrusted = (ip: string) => boolean;
export type LimitKeyReader = (req: KeyedRequest, isTrusted: IsTrusted) => string;

/** Longer values are hashed: a key is held in memory and in Redis, and a client chooses its header's length. */
const MAX_VALUE_LENGTH = 128;

/** Compiles `ip | route | header:NAME | cookie:NAME` (validated by the schema). */
export function compileLimitKey(spec: string): LimitKeyReader {
  if (spec === 'ip') return addressKey;
  if (spec === 'route') return () => '';
  const colon = spec.indexOf(':');
  const name = spec.slice(colon + 1);
  const read: (req: KeyedRequest) => string | undefined =
    spec.startsWith('header:') ? ((lower) => (req) => req.header(lower))(name.toLowerCase()) : (req) => cookieValue(req.header('cookie'), name);
  // A request without the header or cookie is counted by its address, not let through uncounted (nginx's
  // limit_req skips an empty key, which makes leaving the header out the way around the limit).
  return (req, isTrusted) => {
    const value = read(req);
    return value === undefined || value === '' ? addressKey(req, isTrusted) : `=${value.length > MAX_VALUE_LENGTH ? digest(value) : value}`;
  };
}

function addressKey(req: KeyedRequest, isTrusted: IsTrusted): string {
  return `@${addressBucket(clientAddress(req.clientIp, req.forwardedFor, isTrusted))}`;
}

function digest(value: string): string {
  return `#${createHash('sha256').update(value).digest('base64url')}`;
}

/**
 * The client's address as nginx's real_ip_recursive reads it: when the peer is a trusted proxy, X-Forwarded-For
 * is walked from its right end (the entry the nearest proxy appended) past every trusted address, and the first
 * untrusted one is the client. Entries to its left were written by the client and prove nothing. An entry that is
 * not an address stops the walk at the last good one; when every entry is trusted, the leftmost is the client.
 */
export function clientAddress(peer: string, forwardedFor: string | undefined, isTrusted: IsTrusted): string {
  if (forwardedFor === undefined || !isTrusted(peer)) return peer;
  let address = peer;
  let end = forwardedFor.length;
  while (end > 0) {
    const comma = forwardedFor.lastIndexOf(',', end - 1);
    const entry = parseForwardedAddress(forwardedFor.slice(comma + 1, end));
    if (entry === undefined) return address;
    address = entry;
    if (!isTrusted(address)) return address;
    end = comma < 0 ? 0 : comma;
  }
  return address;
}

/** An X-Forwarded-For entry as an address: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:443`. */
export function parseForwardedAddress(raw: string): string | undefined {
  let s = raw.trim();
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return undefined;
    s = s.slice(1, close);
  } else if (s.indexOf(':') > 0 && s.indexOf(':') === s.lastIndexOf(':')) {
    s = s.slice(0, s.indexOf(':')); // IPv4 with a port (one colon: an IPv6 address has at least two)
  }
  const kind = isIP(s);
  if (kind === 0) return undefined;
  return kind === 6 && s.toLowerCase().startsWith('::ffff:') && isIP(s.slice(7)) === 4 ? s.slice(7) : s;
}

/**
 * The unit an address is counted as: an IPv4 address, or an IPv6 address's /64, the block one subscriber gets
 * (RFC 6177): counting single IPv6 addresses would let one client rotate through 2^64 of them.
 */
export function addressBucket(address: string): string {
  if (isIP(address) !== 6) return address;
  return `${ipv6Prefix64(address)}::/64`;
}

/** The first four groups of an IPv6 address, as hex without leading zeros. */
function ipv6Prefix64(address: string): string {
  const zone = address.indexOf('%');
  const a = (zone < 0 ? address : address.slice(0, zone)).toLowerCase();
  const gap = a.indexOf('::');
  const head = gap < 0 ? a.split(':') : a.slice(0, gap) === '' ? [] : a.slice(0, gap).split(':');
  const tail = gap < 0 ? [] : a.slice(gap + 2) === '' ? [] : a.slice(gap + 2).split(':');
  // A dotted IPv4 tail stands for two groups.
  const tailGroups = tail.length + (tail.length > 0 && tail[tail.length - 1]!.includes('.') ? 1 : 0);
  const groups = [...head, ...new Array<string>(Math.max(0, 8 - head.length - tailGroups)).fill('0'), ...tail];
  return groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':');
}
