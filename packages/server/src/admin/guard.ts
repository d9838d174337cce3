/**
 * What every admin request must show before it is routed, token or not (the token says who may change things; these
 * checks say the request really was meant for this listener by its sender):
 *
 * - Host names this listener (DNS rebinding): the address the connection arrived on with its port, the loopback
 *   names when that address is loopback, or a name in `admin.allowed_hosts`. A page at `rebind.example` whose name
 *   now resolves to 127.0.0.1 still sends `Host: rebind.example`, so its reads and writes are refused. The answer is
 *   421 Misdirected Request (RFC 9110 §15.5.20): the request reached a server that does not serve that authority;
 *   the same for every path, the dashboard's files and the live stream included.
 * - A mutation comes from no browser page or from one of ours (CSRF): an `Origin` must name this listener as Host
 *   must (403 otherwise; `Origin: null` too). A client that sends no Origin is not a browser page.
 * - A mutation is `Content-Type: application/json`, with a body or without one (415 otherwise). A page elsewhere can
 *   send that type only through a CORS preflight, which this listener never grants, so even a browser that sends no
 *   Origin cannot post a form or a text/plain body here.
 */
import type { IncomingMessage } from 'node:http';
import { isLoopback } from './auth.ts';

export type GuardResult = 'allowed' | 'foreign-host' | 'foreign-origin' | 'not-json';

/** A Host value taken apart: the name lower case without a trailing dot, IPv6 without brackets; the port if given. */
export interface Authority {
  readonly hostname: string;
  readonly port: number | undefined;
}

/** RFC 9110 §7.2 Host: uri-host [":" port], with no userinfo, path or whitespace. */
const AUTHORITY = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]/@?#\\]+)(?::(\d{1,5}))?$/;

export function parseAuthority(value: string): Authority | undefined {
  const m = AUTHORITY.exec(value);
  if (m === null) return undefined;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && port > 65_535) return undefined;
  const host = m[1]!.toLowerCase().replace(/\.$/, '');
  return { hostname: host.startsWith('[') ? canonicalIpv6(host) : host, port };
}

/** `[0:0::1]` → `::1`, the form Node gives local addresses in; undefined for a malformed literal. */
function canonicalIpv6(bracketed: string): string {
  return URL.canParse(`http://${bracketed}`) ? new URL(`http://${bracketed}`).hostname.slice(1, -1) : bracketed;
}

/** The address a connection arrived on, as Host would name it: `::ffff:127.0.0.1` is 127.0.0.1. */
function localHost(address: string | undefined): string {
  const a = (address ?? '').toLowerCase();
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

/** The listener where the request arrived: its address and port. */
export interface Listener {
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
}

/**
 * True when `authority` names this listener: the arrival address (or a loopback name when that is loopback) with its
 * port (80 when none is given: the listener speaks plain HTTP), or an allowed name: `name` on any port, `name:port`
 * on that one.
 */
export function namesListener(authority: Authority, listener: Listener, allowedHosts: readonly string[]): boolean {
  const local = localHost(listener.localAddress);
  if ((authority.port ?? 80) === listener.localPort) {
    if (authority.hostname === local) return true;
    if (isLoopback(local) && LOOPBACK_NAMES.has(authority.hostname)) return true;
  }
  return allowedHosts.some((entry) => {
    const allowed = parseAuthority(entry);
    return allowed !== undefined && allowed.hostname === authority.hostname && (allowed.port === undefined || allowed.port === authority.port);
  });
}

/** The authority of an Origin (RFC 6454 §7) that is an http(s) page; undefined for `null` or anything else. */
function originAuthority(origin: string): Authority | undefined {
  if (!URL.canParse(origin)) return undefined;
  const url = new URL(origin);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  return { hostname: url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, ''), port };
}

/** True for `application/json` with any parameters (`; charset=utf-8`), in any case (RFC 9110 §8.3.1). */
export function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/** Safe methods read; every other method (POST, PUT, PATCH, DELETE, …) is held to the mutation checks. */
export function isMutation(method: string | undefined): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

/** The checks above, in order: Host for every request, then Origin and Content-Type for mutations. */
export function guardRequest(req: IncomingMessage, allowedHosts: readonly string[]): GuardResult {
  const host = req.headers.host === undefined ? undefined : parseAuthority(req.headers.host);
  if (host === undefined || !namesListener(host, req.socket, allowedHosts)) return 'foreign-host';
  if (!isMutation(req.method)) return 'allowed';
  const origin = req.headers.origin;
  if (origin !== undefined) {
    const from = originAuthority(origin);
    if (from === undefined || !namesListener(from, req.socket, allowedHosts)) return 'foreign-origin';
  }
  return isJson(req.headers['content-type']) ? 'allowed' : 'not-json';
}

/** How a refusal is answered: status, error code and message. */
export const REFUSALS: Record<Exclude<GuardResult, 'allowed'>, readonly [number, string, string]> = {
  'foreign-host': [421, 'FUL_ERR_ADMIN_MISDIRECTED', 'this Host is not the admin listener\'s address nor in admin.allowed_hosts'],
  'foreign-origin': [403, 'FUL_ERR_ADMIN_FOREIGN_ORIGIN', 'mutations are refused from pages of another origin'],
  'not-json': [415, 'FUL_ERR_ADMIN_NOT_JSON', 'mutations need Content-Type: application/json (with or without a body)'],
};
