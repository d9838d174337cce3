/**
 * Targeted cache-control fields (RFC 9213): CDN-Cache-Control and its kind carry Cache-Control directives as a
 * Structured Fields Dictionary (RFC 8941 §3.2). They are parsed as one, strictly: a field that does not parse, or
 * whose directives have the wrong type (`max-age="60"`), is ignored as if absent (RFC 9213 §2.2), and the cache falls
 * back to Cache-Control. A valid, non-empty targeted field replaces Cache-Control and Expires for this cache.
 */
import { emptyDirectives, type Directives } from './directives.ts';

/** The targeted fields Fulcrum obeys, most specific first (RFC 9213 §2.1: its target list). */
export const TARGET_LIST: readonly string[] = ['cdn-cache-control'];

/** Directives whose value is an Integer (seconds). */
const INTEGER = new Set(['max-age', 's-maxage', 'stale-while-revalidate', 'stale-if-error']);
/** Directives whose value is Boolean true, or a String of field names. */
const BOOLEAN_OR_STRING = new Set(['no-cache', 'private']);
/** Directives whose value is Boolean true. */
const BOOLEAN = new Set(['no-store', 'must-revalidate', 'proxy-revalidate', 'public', 'must-understand', 'immutable', 'no-transform']);

/**
 * The directives of the first target-listed field that is present, valid and non-empty, in the form
 * directives.ts gives (integers as decimal strings, Boolean true as ''); undefined when there is none.
 */
export function targetedDirectives(headers: readonly string[]): Directives | undefined {
  for (const target of TARGET_LIST) {
    let value: string | undefined;
    for (let i = 0; i < headers.length; i += 2) {
      if (headers[i]!.length === target.length && headers[i]!.toLowerCase() === target) {
        value = value === undefined ? headers[i + 1]! : `${value}, ${headers[i + 1]!}`; // RFC 8941 §4.2: lines combine
      }
    }
    if (value === undefined) continue;
    const parsed = parseDictionary(value);
    if (parsed !== undefined && Object.keys(parsed).length > 0) return parsed;
  }
  return undefined;
}

type Bare = { type: 'integer' | 'decimal' | 'string' | 'token' | 'bytes'; value: string } | { type: 'boolean'; value: boolean };

class Parser {
  i = 0;
  readonly s: string;
  constructor(s: string) {
    this.s = s;
  }
  /** The character at the cursor ('' at the end). A method, so that checks on it are not narrowed away. */
  c(): string {
    return this.s[this.i] ?? '';
  }
  ows(): void {
    while (this.c() === ' ' || this.c() === '\t') this.i++;
  }
  sp(): void {
    while (this.c() === ' ') this.i++;
  }
}

/** RFC 8941 §4.2.2, mapped to directives; undefined on any parse or type error. */
export function parseDictionary(input: string): Directives | undefined {
  const p = new Parser(input);
  const out = emptyDirectives();
  p.sp();
  if (p.i >= input.length) return out;
  for (;;) {
    const key = parseKey(p);
    if (key === undefined) return undefined;
    let member: Bare | 'inner-list';
    if (p.c() === '=') {
      p.i++;
      if (p.c() === '(') {
        if (!skipInnerList(p)) return undefined;
        member = 'inner-list';
      } else {
        const item = parseBare(p);
        if (item === undefined) return undefined;
        member = item;
      }
    } else member = { type: 'boolean', value: true };
    if (!skipParameters(p)) return undefined;
    const value = directiveValue(key, member);
    if (value === undefined) return undefined;
    if (value !== null) out[key] = value; // RFC 8941: the last of a repeated key wins
    else delete out[key];
    p.ows();
    if (p.i >= input.length) return out;
    if (p.c() !== ',') return undefined;
    p.i++;
    p.ows();
    if (p.i >= input.length) return undefined; // a trailing comma
  }
}

/** The directive's value as directives.ts writes it; null for an absent one (?0); undefined for a wrong type. */
function directiveValue(key: string, member: Bare | 'inner-list'): string | null | undefined {
  if (member === 'inner-list') return INTEGER.has(key) || BOOLEAN.has(key) || BOOLEAN_OR_STRING.has(key) ? undefined : '';
  if (member.type === 'boolean') {
    if (INTEGER.has(key)) return undefined;
    return member.value ? '' : null;
  }
  if (INTEGER.has(key)) return member.type === 'integer' && !member.value.startsWith('-') ? member.value : undefined;
  if (BOOLEAN.has(key)) return undefined;
  if (BOOLEAN_OR_STRING.has(key)) return member.type === 'string' ? member.value : undefined;
  return member.value;
}

function parseKey(p: Parser): string | undefined {
  if (!/^[a-z*]$/.test(p.c())) return undefined;
  const start = p.i;
  while (/^[a-z0-9_\-.*]$/.test(p.c())) p.i++;
  return p.s.slice(start, p.i);
}

function parseBare(p: Parser): Bare | undefined {
  const c = p.c();
  if (c === '-' || (c >= '0' && c <= '9')) return parseNumber(p);
  if (c === '"') return parseString(p);
  if (c === '*' || /^[A-Za-z]$/.test(c)) {
    const start = p.i;
    while (/^[!#$%&'*+\-.^_`|~0-9A-Za-z:/]$/.test(p.c())) p.i++;
    return { type: 'token', value: p.s.slice(start, p.i) };
  }
  if (c === ':') {
    const end = p.s.indexOf(':', p.i + 1);
    if (end < 0 || !/^[A-Za-z0-9+/=]*$/.test(p.s.slice(p.i + 1, end))) return undefined;
    const value = p.s.slice(p.i + 1, end);
    p.i = end + 1;
    return { type: 'bytes', value };
  }
  if (c === '?') {
    const b = p.s[p.i + 1];
    if (b !== '0' && b !== '1') return undefined;
    p.i += 2;
    return { type: 'boolean', value: b === '1' };
  }
  return undefined;
}

function parseNumber(p: Parser): Bare | undefined {
  const m = /^-?(\d{1,15})(\.\d{1,3})?/.exec(p.s.slice(p.i));
  if (m === null) return undefined;
  if (m[2] !== undefined && m[1]!.length > 12) return undefined;
  p.i += m[0].length;
  if (/^[0-9.]$/.test(p.c())) return undefined; // more digits than allowed
  return { type: m[2] === undefined ? 'integer' : 'decimal', value: m[0] };
}

function parseString(p: Parser): Bare | undefined {
  let value = '';
  for (p.i++; p.i < p.s.length; p.i++) {
    const c = p.s[p.i]!;
    if (c === '"') {
      p.i++;
      return { type: 'string', value };
    }
    if (c === '\\') {
      const next = p.s[++p.i];
      if (next !== '"' && next !== '\\') return undefined;
      value += next;
    } else if (c < ' ' || c > '~') return undefined;
    else value += c;
  }
  return undefined;
}

function skipParameters(p: Parser): boolean {
  while (p.c() === ';') {
    p.i++;
    p.sp();
    if (parseKey(p) === undefined) return false;
    if (p.c() === '=') {
      p.i++;
      if (parseBare(p) === undefined) return false;
    }
  }
  return true;
}

function skipInnerList(p: Parser): boolean {
  p.i++; // (
  for (;;) {
    p.sp();
    if (p.c() === ')') {
      p.i++;
      return true;
    }
    if (parseBare(p) === undefined || !skipParameters(p)) return false;
    if (p.c() !== ' ' && p.c() !== ')') return false;
  }
}
