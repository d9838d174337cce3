/** What balancers with affinity read of a request: the consistent-hash key and the sticky cookie. */
import type { RequestView } from './balancer.ts';

export type KeyReader = (req: RequestView) => string | undefined;

/** Compiles `ip | path | header:NAME | cookie:NAME` (validated by the schema) once per pool. */
export function compileHashKey(spec: string): KeyReader {
  if (spec === 'ip') return (req) => req.clientIp;
  if (spec === 'path') return (req) => req.path;
  const colon = spec.indexOf(':');
  const kind = spec.slice(0, colon);
  const name = spec.slice(colon + 1);
  if (kind === 'header') {
    const lower = name.toLowerCase();
    return (req) => req.header(lower);
  }
  return (req) => cookieValue(req.header('cookie'), name);
}

/** One cookie's value from a Cookie header (RFC 6265 §5.4), without decoding. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    const eq = header.indexOf('=', start);
    if (eq > 0 && eq < end && header.slice(start, eq).trim() === name) return header.slice(eq + 1, end).trim();
    start = end + 1;
  }
  return undefined;
}
