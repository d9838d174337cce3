/**
 * Cache-Control as RFC 9111 §5.2 defines it: a list of `token [ "=" ( token / quoted-string ) ]`, names compared
 * without regard to case, arguments accepted in either form (a quoted `max-age="60"` is read as 60). What the grammar
 * does not allow is dropped member by member, never guessed at: `max-age =60` and `max-age= 60` name no max-age, and
 * a quoted string may hold commas and `=` (`ext="max-age=100"` is one extension, not a max-age). When a directive
 * appears twice, the first occurrence wins (RFC 9111 §4.2.1), across every field line of the message.
 */

/** Directive name (lower case) → its argument, unquoted; '' for a directive without one. No prototype. */
export type Directives = Record<string, string>;

export function emptyDirectives(): Directives {
  return Object.create(null) as Directives;
}

/** A directive list where nothing is special: answered for an absent field without allocating. */
export const NO_DIRECTIVES: Readonly<Directives> = Object.freeze(emptyDirectives());

/** RFC 9110 §5.6.2 tchar. */
const TCHAR = (() => {
  const t = new Uint8Array(128);
  for (const c of "!#$%&'*+-.^_`|~") t[c.charCodeAt(0)] = 1;
  for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  return t;
})();

const isTchar = (c: number): boolean => c < 128 && TCHAR[c] === 1;
const isOws = (c: number): boolean => c === 0x20 || c === 0x09;

/** Adds the directives of one field line to `into` (first occurrence wins); returns `into`. */
export function parseDirectives(value: string, into: Directives = emptyDirectives()): Directives {
  const n = value.length;
  let i = 0;
  while (i < n) {
    while (i < n && (isOws(value.charCodeAt(i)) || value.charCodeAt(i) === 0x2c)) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && isTchar(value.charCodeAt(i))) i++;
    let ok = i > start;
    const name = value.slice(start, i).toLowerCase();
    let arg = '';
    if (ok && i < n && value.charCodeAt(i) === 0x3d /* = */) {
      i++;
      if (i < n && value.charCodeAt(i) === 0x22 /* " */) {
        const quoted = readQuoted(value, i);
        if (quoted === undefined) return into; // an unterminated string runs to the end: nothing after it is readable
        arg = quoted.text;
        i = quoted.end;
      } else {
        const argStart = i;
        while (i < n && isTchar(value.charCodeAt(i))) i++;
        arg = value.slice(argStart, i);
        ok = i > argStart;
      }
    }
    while (i < n && isOws(value.charCodeAt(i))) i++;
    if (i < n && value.charCodeAt(i) !== 0x2c) ok = false;
    if (!ok) {
      // Not a directive: skip to the next comma outside a quoted string.
      while (i < n && value.charCodeAt(i) !== 0x2c) {
        if (value.charCodeAt(i) === 0x22) {
          const quoted = readQuoted(value, i);
          if (quoted === undefined) return into;
          i = quoted.end;
        } else i++;
      }
      continue;
    }
    if (!(name in into)) into[name] = arg;
  }
  return into;
}

/** The directives of every line of one field in a flat [name, value, …] list; NO_DIRECTIVES when absent. */
export function directivesOf(headers: readonly string[], lowerName: string): Directives {
  let out: Directives | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) out = parseDirectives(headers[i + 1]!, out);
  }
  return out ?? NO_DIRECTIVES;
}

/** RFC 9110 §5.6.4 quoted-string at `at` (a DQUOTE): its text, unescaped, and the index after it. */
function readQuoted(value: string, at: number): { text: string; end: number } | undefined {
  let text = '';
  for (let i = at + 1; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x22) return { text, end: i + 1 };
    if (c === 0x5c /* \ */ && i + 1 < value.length) text += value[++i];
    else text += value[i];
  }
  return undefined;
}

/** RFC 9111 §1.2.2: the largest delta-seconds a cache needs to represent; larger values are taken as this. */
export const DELTA_SECONDS_MAX = 2147483648;

/**
 * A delta-seconds argument (RFC 9111 §1.2.2): digits only, capped at 2^31. Undefined when invalid: absent, empty,
 * signed, fractional or with other characters (`-1`, `3600.0`, `60s`, `'60'`).
 */
export function deltaSeconds(value: string | undefined): number | undefined {
  if (value === undefined || value.length === 0) return undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  return value.length > 10 ? DELTA_SECONDS_MAX : Math.min(Number(value), DELTA_SECONDS_MAX);
}

/** The field names of a qualified no-cache or private (RFC 9111 §5.2.2.4, §5.2.2.7), lower case; [] when bare. */
export function fieldNames(arg: string | undefined): string[] {
  if (arg === undefined || arg === '') return [];
  const names: string[] = [];
  for (const part of arg.split(',')) {
    const name = part.trim().toLowerCase();
    if (name !== '' && !names.includes(name)) names.push(name);
  }
  return names;
}
