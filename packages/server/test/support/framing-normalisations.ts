/**
 * What Fulcrum may accept although llhttp refuses it, because the reading is unambiguous and what Fulcrum
 * forwards is clean (issue 13). Each is checked, not assumed: the stream is rewritten the one way the
 * normalisation names (in the heads Fulcrum read, or through one llhttp leniency) and read again by llhttp;
 * Fulcrum must then agree with it exactly. Every tolerated case is counted in the test's output.
 *
 * - OWS after a field value: not part of the value (RFC 9110 §5.5); llhttp refuses `Transfer-Encoding: chunked `.
 * - identical Content-Length fields: may be read as one (RFC 9110 §8.6); Fulcrum must forward one, which
 *   the forwarded-bytes test checks.
 * - an extension method: any token is a method (RFC 9110 §9.1); llhttp knows a fixed list.
 * - whitespace after a chunk size: RFC 9112 §7.1.1 allows BWS before a chunk extension, llhttp in strict mode
 *   none; Fulcrum re-chunks what it forwards.
 */
import { LENIENT_SPACES_AFTER_CHUNK_SIZE, LLHTTP_METHODS } from './llhttp.ts';

/** Where a head lies in the stream: [start, end), end after its CRLFCRLF. */
export interface HeadRange {
  readonly start: number;
  readonly end: number;
}

export const OWS = 'OWS after a field value';
export const IDENTICAL_LENGTHS = 'identical Content-Length fields';
export const EXTENSION_METHOD = 'an extension method';
export const CHUNK_SIZE_SPACES = 'whitespace after a chunk size';

/** The llhttp leniency that stands for CHUNK_SIZE_SPACES. */
export const CHUNK_SIZE_LENIENCY = LENIENT_SPACES_AFTER_CHUNK_SIZE;

export interface Normalised {
  readonly bytes: Buffer;
  /** The normalisations that changed something. */
  readonly applied: ReadonlySet<string>;
  /** Indexes of the heads whose method was replaced by GET (llhttp's reading then says GET). */
  readonly methodReplaced: ReadonlySet<number>;
}

/** Rewrites the heads at `heads` (as Fulcrum found them) the ways listed above; bodies are left as they are. */
export function normaliseHeads(bytes: Buffer, heads: readonly HeadRange[], kind: 'request' | 'response'): Normalised {
  const applied = new Set<string>();
  const methodReplaced = new Set<number>();
  const parts: Buffer[] = [];
  let from = 0;
  heads.forEach((range, index) => {
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
    parts.push(Buffer.from(`${kept.join('\r\n')}\r\n\r\n`, 'latin1'));
    from = range.end;
  });
  parts.push(bytes.subarray(from));
  return { bytes: Buffer.concat(parts), applied, methodReplaced };
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
