/**
 * Cache keys (RFC 9111 §2, §4.1). The primary key names a resource: method, host, path, the query as the route
 * normalises it, and the request header and cookie values the route adds. The secondary (Vary) key tells apart the
 * representations of one resource. Keys are plain strings; stores hash them to fit their own limits.
 *
 * Parts are joined with '\n', which cannot occur in any of them (a request target, a host and a field value never
 * hold CR or LF: the head parser ends a line there), so two different requests never share a key by an unlucky
 * concatenation (a path that spells out a header part, say).
 */

export const QUERY_MODES = ['keep', 'sort', 'ignore'] as const;
/** keep: the query as sent; sort: parameters sorted by name (stable); ignore: no query in the key at all. */
export type QueryMode = (typeof QUERY_MODES)[number];

export interface CacheKeyConfig {
  readonly query: QueryMode;
  /** Parameter names (exact, case-sensitive, after percent-decoding) left out of the key, such as utm_source. */
  readonly ignore_params: readonly string[];
  /** Request header names whose values are part of the key (any case). */
  readonly headers: readonly string[];
  /** Cookie names whose values (from the Cookie header) are part of the key (case-sensitive, as cookies are). */
  readonly cookies: readonly string[];
}

const SEP = '\n';

/**
 * The primary key. HEAD shares GET's key: a stored GET response answers a HEAD (RFC 9110 §9.3.2). `query` is the
 * part after '?' (a leading '?' is accepted); an empty query is no query. `headers` is the request's flat
 * [name, value, …] list, read only for the header and cookie parts. The scheme is part of the key (RFC 9111 §2:
 * the target URI): http:// and https:// are different resources, which a backend may answer differently.
 */
export function primaryKey(
  method: string,
  host: string,
  path: string,
  query: string,
  cfg: { readonly key: CacheKeyConfig },
  headers: readonly string[] = [],
  secure = false,
): string {
  const q = normaliseQuery(query.charCodeAt(0) === 0x3f /* ? */ ? query.slice(1) : query, cfg.key);
  const scheme = secure ? 'https://' : 'http://';
  let key = `${method === 'HEAD' ? 'GET' : method}${SEP}${scheme}${host.toLowerCase()}${SEP}${path}${q === '' ? '' : `?${q}`}`;
  for (const name of cfg.key.headers) {
    const value = fieldValue(headers, name.toLowerCase());
    key += value === undefined ? `${SEP}h:${name.toLowerCase()}` : `${SEP}h:${name.toLowerCase()}=${normaliseFieldValue(value)}`;
  }
  if (cfg.key.cookies.length > 0) {
    const cookies = cookieValues(headers, cfg.key.cookies);
    for (const name of cfg.key.cookies) {
      const value = cookies.get(name);
      key += value === undefined ? `${SEP}c:${name}` : `${SEP}c:${name}=${value}`;
    }
  }
  return key;
}

/** The query as it goes into the key: per the mode, without ignored parameters. */
export function normaliseQuery(query: string, cfg: CacheKeyConfig): string {
  if (cfg.query === 'ignore' || query === '') return '';
  if (cfg.query === 'keep' && cfg.ignore_params.length === 0) return query;
  const kept: string[] = [];
  for (const piece of query.split('&')) {
    if (piece === '') {
      if (cfg.query === 'keep') kept.push(piece); // keep means byte for byte, but for the ignored parameters
      continue;
    }
    if (cfg.ignore_params.length > 0 && cfg.ignore_params.includes(paramName(piece))) continue;
    kept.push(piece);
  }
  // Stable: repeated parameters keep their relative order, which applications may rely on (id=2&id=1).
  if (cfg.query === 'sort') kept.sort((a, b) => compare(rawName(a), rawName(b)));
  return kept.join('&');
}

function rawName(piece: string): string {
  const eq = piece.indexOf('=');
  return eq < 0 ? piece : piece.slice(0, eq);
}

function paramName(piece: string): string {
  const name = rawName(piece);
  if (!name.includes('%') && !name.includes('+')) return name;
  try {
    return decodeURIComponent(name.replaceAll('+', ' '));
  } catch {
    return name; // malformed escapes: compared as sent
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The secondary key of a response with Vary: the primary key plus the request's values of the fields it names
 * (RFC 9111 §4.1), normalised so that values differing only in whitespace share it. A field absent from the request
 * differs from a field present but empty. Undefined for `Vary: *`, which no request matches: do not store.
 * `varyHeaderNames` may be names or raw Vary values ("accept-encoding, accept-language").
 */
export function varyKey(
  primary: string,
  varyHeaderNames: string | readonly string[],
  requestHeaders: readonly string[],
): string | undefined {
  const names = varyNames(varyHeaderNames);
  if (names === '*') return undefined;
  if (names.length === 0) return primary;
  let key = `${primary}${SEP}vary`;
  for (const name of names) {
    const value = fieldValue(requestHeaders, name);
    key += value === undefined ? `${SEP}${name}` : `${SEP}${name}=${normaliseFieldValue(value)}`;
  }
  return key;
}

/** The field names a response's Vary lists (lower case, sorted, unique), or '*'. Empty without Vary. */
export function parseVary(responseHeaders: readonly string[]): readonly string[] | '*' {
  let values: string[] | undefined;
  for (let i = 0; i < responseHeaders.length; i += 2) {
    if (responseHeaders[i]!.toLowerCase() === 'vary') (values ??= []).push(responseHeaders[i + 1]!);
  }
  return values === undefined ? [] : varyNames(values);
}

/** The field names in Vary values (names or raw "a, b" lists): lower case, sorted, unique; or '*'. */
export function varyNames(values: string | readonly string[]): readonly string[] | '*' {
  const names = new Set<string>();
  for (const value of typeof values === 'string' ? [values] : values) {
    for (const part of value.split(',')) {
      const name = part.trim().toLowerCase();
      if (name === '*') return '*';
      if (name !== '') names.add(name);
    }
  }
  // Sorted: "Vary: a, b" and "Vary: b, a" select the same variants.
  return [...names].sort(compare);
}

/** All values of one field (lower-case name) joined with ", " as RFC 9110 §5.3 allows; undefined when absent. */
export function fieldValue(headers: readonly string[], lowerName: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.length === lowerName.length && headers[i]!.toLowerCase() === lowerName) {
      value = value === undefined ? headers[i + 1]! : `${value}, ${headers[i + 1]!}`;
    }
  }
  return value;
}

const NEEDS_NORMALISING = /^[ \t]|[ \t]$|[ \t]{2}|\t| ,|, /;

/**
 * A field value with whitespace that carries no meaning removed (RFC 9111 §4.1: values that differ only where the
 * syntax allows whitespace match): trimmed, runs of spaces and tabs collapsed to one space, none around commas.
 */
export function normaliseFieldValue(value: string): string {
  if (!NEEDS_NORMALISING.test(value)) return value;
  return value.trim().replace(/[ \t]+/g, ' ').replace(/ ?, ?/g, ',');
}

/** The values of the named cookies in the request's Cookie fields (RFC 6265 §5.4); the first of a name wins. */
function cookieValues(headers: readonly string[], wanted: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() !== 'cookie') continue;
    for (const pair of headers[i + 1]!.split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      if (wanted.includes(name) && !found.has(name)) found.set(name, pair.slice(eq + 1).trim());
    }
  }
  return found;
}

/** The scheme-less URL entries are filed under (StoredResponse.url) and purged by: host + target. */
export function urlOf(host: string, target: string): string {
  return `${host.toLowerCase()}${target}`;
}
