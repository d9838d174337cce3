/**
 * What Fulcrum may accept although llhttp (strict) refuses it, because the reading is unambiguous and what Fulcrum
 * forwards is clean (issue 13). Each is checked, not assumed: the stream is rewritten the one way the
 * normalisation names, in the messages Fulcrum found, and read again by llhttp; Fulcrum must then agree with it
 * exactly. Every tolerated case is counted in the tests' output.
 *
 * In a head:
 * - OWS after a field value: not part of the value (RFC 9110 §5.5); llhttp refuses `Transfer-Encoding: chunked `.
 * - identical Content-Length fields: may be read as one (RFC 9110 §8.6); Fulcrum must forward one, which the
 *   forwarded-bytes test checks.
 * - an extension method: any token is a method (RFC 9110 §9.1); llhttp knows a fixed list.
 * In a chunked body that is otherwise valid by RFC 9112 §7.1 (Fulcrum re-chunks what it forwards, without
 * extensions or trailers):
 * - whitespace after a chunk size, and BWS around a chunk extension's `;` and `=` (§7.1.1 allows the latter).
 * - framing fields (Content-Length, Transfer-Encoding) in the trailer section, which a recipient discards
 *   (RFC 9110 §6.5.1); llhttp refuses them.
 */
import { LLHTTP_METHODS } from './llhttp.ts';

/** Where a head lies in the stream: [start, end), end after its CRLFCRLF. */
export interface HeadRange {
  readonly start: number;
  readonly end: number;
}

export const OWS = 'OWS after a field value';
export const IDENTICAL_LENGTHS = 'identical Content-Length fields';
export const EXTENSION_METHOD = 'an extension method';
export const CHUNK_LINE_SPACES = 'whitespace in a chunk-size line';
export const TRAILER_FRAMING = 'framing fields in the trailer section';

export interface Normalised {
  readonly bytes: Buffer;
  /** The normalisations that changed something. */
  readonly applied: ReadonlySet<string>;
  /** Indexes of the heads whose method was replaced by GET (llhttp's reading then says GET). */
  readonly methodReplaced: ReadonlySet<number>;
}

/**
 * Rewrites the messages whose heads lie at `heads` (as Fulcrum found them): each head as above, and its chunked
 * body, as far as it is valid, in canonical form. `bodies: false` for a response that has none.
 */
export function normaliseMessages(bytes: Buffer, heads: readonly HeadRange[], kind: 'request' | 'response', bodies = true): Normalised {
  const applied = new Set<string>();
  const methodReplaced = new Set<number>();
  const parts: Buffer[] = [];
  let from = 0;
  heads.forEach((range, index) => {
    if (range.start < from) return; // inside a body rewritten already: Fulcrum read it otherwise
    parts.push(bytes.subarray(from, range.start));
    const lines = bytes.toString('latin1', range.start, range.end - 4).split('\r\n');
    if (kind === 'request') {
      const method = lines[0]!.slice(0, lines[0]!.indexOf(' '));
      if (method !== '' && !LLHTTP_METHODS.has(method)) {
        lines[0] = `GET${lines[0]!.slice(method.length)}`;
        methodReplaced.add(index);
        applied.add(EXTENSION_METHOD);
      }
    }
    parts.push(Buffer.from(`${normaliseFields(lines, applied).join('\r\n')}\r\n\r\n`, 'latin1'));
    from = range.end;
    const body = bodies && isChunked(lines) ? canonicalChunked(bytes, range.end, applied) : undefined;
    if (body !== undefined) {
      parts.push(body.bytes);
      from = body.end;
    }
  });
  parts.push(bytes.subarray(from));
  return { bytes: Buffer.concat(parts), applied, methodReplaced };
}

function normaliseFields(lines: readonly string[], applied: Set<string>): string[] {
  const lengths = new Set<string>();
  const kept = [lines[0]!];
  for (const line of lines.slice(1)) {
    const trimmed = line.replace(/[ \t]+$/, '');
    if (trimmed !== line) applied.add(OWS);
    const cl = /^content-length:[ \t]*(.*)$/i.exec(trimmed);
    if (cl !== null) {
      if (lengths.has(cl[1]!)) {
        applied.add(IDENTICAL_LENGTHS);
        continue;
      }
      lengths.add(cl[1]!);
    }
    kept.push(trimmed);
  }
  return kept;
}

/** Whether the head's Transfer-Encoding fields end with chunked. */
function isChunked(lines: readonly string[]): boolean {
  const codings = lines
    .slice(1)
    .filter((l) => /^transfer-encoding:/i.test(l))
    .flatMap((l) => l.slice(l.indexOf(':') + 1).split(','));
  return codings.at(-1)?.trim().toLowerCase() === 'chunked';
}

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const QUOTED = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x21-\\x7e\\x80-\\xff])*"';
/** RFC 9112 §7.1: chunk-size [ chunk-ext ], BWS allowed around `;` and `=`, and (leniently) after the size. */
const CHUNK_LINE = new RegExp(`^([0-9A-Fa-f]{1,12})((?:[ \\t]*;[ \\t]*${TOKEN}(?:[ \\t]*=[ \\t]*(?:${TOKEN}|${QUOTED}))?)*)([ \\t]*)$`);
const BWS_IN_EXT = /[ \t][;=]|[;=][ \t]/;
/** RFC 9112 §5: field-name ":" OWS field-value OWS, no obs-fold. */
const FIELD_LINE = new RegExp(`^(${TOKEN}):[ \\t]*(?:[\\x21-\\x7e\\x80-\\xff](?:[ \\t\\x21-\\x7e\\x80-\\xff]*[\\x21-\\x7e\\x80-\\xff])?)?[ \\t]*$`);

/**
 * The chunked body at `from` rewritten, as far as it is valid: sizes bare, no extensions, no framing trailers.
 * From the first invalid byte on (or a cut), the rest is left as it is, for llhttp to refuse where it would.
 */
function canonicalChunked(bytes: Buffer, from: number, applied: Set<string>): { bytes: Buffer; end: number } {
  const out: string[] = [];
  let pos = from;
  /** Where the part rewritten so far ends in the input. */
  let mark = from;
  const done = () => ({ bytes: Buffer.from(out.join(''), 'latin1'), end: mark });
  const line = (): string | undefined => {
    const eol = bytes.indexOf('\r\n', pos, 'latin1');
    if (eol < 0) return undefined;
    const text = bytes.toString('latin1', pos, eol);
    pos = eol + 2;
    return text;
  };
  for (;;) {
    const m = CHUNK_LINE.exec(line() ?? '\n');
    if (m === null) return done();
    const size = parseInt(m[1]!, 16);
    if (m[3] !== '' || BWS_IN_EXT.test(m[2]!)) applied.add(CHUNK_LINE_SPACES);
    out.push(`${size.toString(16)}\r\n`);
    mark = pos;
    if (size === 0) break;
    if (pos + size + 2 > bytes.length || bytes.toString('latin1', pos + size, pos + size + 2) !== '\r\n') return done();
    out.push(`${bytes.toString('latin1', pos, pos + size)}\r\n`);
    pos += size + 2;
    mark = pos;
  }
  for (;;) {
    const trailer = line();
    if (trailer === undefined) return done();
    const m = FIELD_LINE.exec(trailer);
    if (trailer !== '' && m === null) return done();
    if (m !== null && /^(content-length|transfer-encoding)$/i.test(m[1]!)) applied.add(TRAILER_FRAMING);
    else out.push(`${trailer}\r\n`);
    mark = pos;
    if (trailer === '') return done();
  }
}

/** The final response's head, found as Fulcrum's HeadReader finds heads (1xx heads skipped); [] if none. */
export function finalResponseHead(bytes: Buffer): HeadRange[] {
  let start = 0;
  for (;;) {
    const end = bytes.indexOf('\r\n\r\n', start, 'latin1');
    if (end < 0) return [];
    const status = Number(bytes.toString('latin1', start + 9, start + 12));
    if (status >= 200 || status === 101 || Number.isNaN(status)) return [{ start, end: end + 4 }];
    start = end + 4;
  }
}
