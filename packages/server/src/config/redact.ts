/**
 * Secrets out of anything shown or logged that holds config values (GET /api/config, events, log lines): one walk
 * over the value, so a field added to the schema tomorrow is covered by its name or its shape, not by a list of
 * paths to keep in step. Redacted:
 *
 * - the string values of a field named like a secret: a word of its name (split at `_`, `-`, `.` and camelCase) is
 *   password, passwd, pwd, pass, secret, token, credential(s) or authorization, or two of them make api key,
 *   access key or private key (`admin.token`, `redis_password`, `x-api-key`); `key` alone is not a secret
 *   (`cache.key`, `hash.key`), nor is `passive`;
 * - in a `headers` map (header name → value), the values of credential headers: Authorization,
 *   Proxy-Authorization, Cookie (a sticky cookie's *name* elsewhere stays visible);
 * - in any string, URL userinfo: the password (`redis://user:[redacted]@host`; a schemeless `user:pass@host:port`
 *   too, as memcached servers are written), and a user with no password when the string has a scheme
 *   (`https://TOKEN@host` carries a token there);
 * - in any URL's query, the values of parameters named like a secret (`?password=…`, `?access_token=…`).
 */

export const REDACTED = '[redacted]';

const SECRET_WORDS = new Set(['password', 'passwd', 'pwd', 'pass', 'secret', 'secrets', 'token', 'tokens', 'credential', 'credentials', 'authorization']);
const SECRET_PAIRS = new Set(['api key', 'access key', 'private key', 'secret key', 'auth token']);
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);

/** True when a field's name says its value is a secret. */
export function isSecretName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
  return words.some((w, i) => SECRET_WORDS.has(w) || (i > 0 && SECRET_PAIRS.has(`${words[i - 1]} ${w}`)));
}

/** `scheme://` (optional), then the userinfo up to the authority's last `@` (as WHATWG URL reads it). */
const USERINFO = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)?([^/?#\s]*)@/;
/** A query parameter of a URL: `?name=value` or `&name=value`. */
const QUERY_PARAM = /([?&])([^=&#]+)=([^&#]*)/g;

/** A string with URL credentials replaced (see above); unchanged when it has none. */
export function redactString(value: string): string {
  let out = value.replace(USERINFO, (whole, scheme: string | undefined, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    if (colon !== -1) return `${scheme ?? ''}${userinfo.slice(0, colon)}:${REDACTED}@`;
    return scheme === undefined ? whole : `${scheme}${REDACTED}@`;
  });
  if (out.includes('://') && out.includes('?')) {
    out = out.replace(QUERY_PARAM, (whole, sep: string, name: string) => (isSecretName(decodeSafely(name)) ? `${sep}${name}=${REDACTED}` : whole));
  }
  return out;
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Every string below a secret field, whatever its shape (a list of tokens, a map of passwords). */
function redactAll(value: unknown): unknown {
  if (typeof value === 'string') return REDACTED;
  if (Array.isArray(value)) return value.map(redactAll);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactAll(v)]));
  return value;
}

/** A copy of `value` (config, event, log fields: plain JSON-like data) with every secret replaced by REDACTED. */
export function redactSecrets(value: unknown, name = '', inHeaders = false): unknown {
  if (isSecretName(name) || (inHeaders && CREDENTIAL_HEADERS.has(name.toLowerCase()))) return redactAll(value);
  if (typeof value === 'string') return redactString(value);
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, name));
  if (value !== null && typeof value === 'object') {
    const headers = name.toLowerCase() === 'headers';
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactSecrets(v, k, headers)]));
  }
  return value;
}
