/**
 * Fulcrum's own reading of a byte stream, for the differential framing tests: its parser pieces (HeadReader,
 * parseRequestHead, BodyDecoder; ResponseParser) driven exactly as downstream/connection.ts and
 * upstream/http1/connection.ts drive them, without sockets, so that thousands of streams are read in a second.
 */
import { BodyDecoder } from '../../src/http1/body-decoder.ts';
import { Http1ParseError } from '../../src/http1/errors.ts';
import { HeadReader } from '../../src/http1/head-reader.ts';
import { parseRequestHead } from '../../src/http1/request-parser.ts';
import { ResponseParser } from '../../src/http1/response-parser.ts';
import type { Extracted } from './framing-agreement.ts';
import type { HeadRange } from './framing-normalisations.ts';
import type { ResponseCase } from './response-corpus.ts';

/** Fulcrum's default limits.max_header_size, and node:http's default maxHeaderSize. */
const MAX_HEAD = 16 * 1024;

/** How Fulcrum's reading of a request stream ended. */
export type RequestOutcome = 'all read' | 'waiting for more bytes' | 'closes after a last request' | 'tunnel' | `refused: ${string}`;

export interface RequestReading {
  readonly messages: Extracted[];
  /** Where each head Fulcrum read lies in the stream. */
  readonly heads: HeadRange[];
  readonly outcome: RequestOutcome;
}

/** Reads a request stream as downstream/connection.ts does: heads, bodies, pipelined requests in turn. */
export function fulcrumReadsRequests(pieces: readonly Buffer[]): RequestReading {
  const heads = new HeadReader(MAX_HEAD);
  const decoder = new BodyDecoder();
  const messages: Extracted[] = [];
  const ranges: HeadRange[] = [];
  let base = 0;
  let current: Extracted | undefined;
  let keepAlive = true;
  let inBody = false;
  let stop: RequestOutcome | undefined;
  const onBody = (chunk: Buffer) => (current!.body = Buffer.concat([current!.body, chunk]));
  const ended = () => {
    current!.complete = true;
    inBody = false;
    // Fulcrum answers, then closes: a pipelined request after this one is never read.
    if (!keepAlive) stop = 'closes after a last request';
  };
  for (const piece of pieces) {
    let offset = 0;
    try {
      while (offset < piece.length && stop === undefined) {
        if (inBody) {
          offset = decoder.feed(piece, offset, onBody);
          if (decoder.done) ended();
          continue;
        }
        const read = heads.read(piece, offset);
        if (read === undefined) break;
        offset = read.next;
        ranges.push({ start: base + read.next - read.head.length - 4, end: base + read.next });
        const head = parseRequestHead(read.head);
        current = { method: head.method, target: head.target, body: Buffer.alloc(0), complete: false };
        messages.push(current);
        keepAlive = head.keepAlive;
        if (head.upgrade) stop = 'tunnel';
        else if (head.framing.kind === 'none') ended();
        else {
          decoder.start(head.framing);
          inBody = true;
        }
      }
    } catch (err) {
      if (!(err instanceof Http1ParseError)) throw err;
      stop = `refused: ${err.message}`;
    }
    if (stop !== undefined) break;
    base += piece.length;
  }
  return { messages, heads: ranges, outcome: stop ?? (inBody || heads.partial ? 'waiting for more bytes' : 'all read') };
}

/** Reads a response as upstream/http1/connection.ts does: one per request, bytes past its end never reused. */
export interface ResponseReading extends Extracted {
  readonly status: number | undefined;
  /** Whether the connection would carry the next request. */
  readonly reusable: boolean;
  readonly outcome: string;
}

export function fulcrumReadsResponse(c: Pick<ResponseCase, 'pieces' | 'isHead' | 'close'>): ResponseReading {
  const out = { method: '', target: '', status: undefined as number | undefined, body: Buffer.alloc(0), complete: false, reusable: false, outcome: '' };
  const parser = new ResponseParser({
    onHead: (head) => (out.status = head.status),
    onBody: (chunk) => (out.body = Buffer.concat([out.body, chunk])),
  });
  parser.expect(c.isHead);
  let i = 0;
  try {
    for (; i < c.pieces.length && !out.complete; i++) out.complete = parser.execute(c.pieces[i]!);
  } catch (err) {
    if (!(err instanceof Http1ParseError)) throw err;
    out.complete = parser.done;
    out.outcome = `refused: ${err.message}`;
    return out;
  }
  if (out.complete) {
    // Bytes arriving on an idle connection make the connection close, unread.
    out.reusable = i === c.pieces.length && parser.reusable;
    out.outcome = out.reusable ? 'complete, connection reused' : 'complete, connection closed';
  } else if (c.close && parser.readsUntilClose && parser.finish()) {
    out.complete = true;
    out.outcome = 'complete at EOF';
  } else out.outcome = c.close ? 'cut by EOF' : 'waiting for more bytes';
  return out;
}
