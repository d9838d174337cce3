/**
 * Message body framing (RFC 9112 §6, §7.1): a known length, chunked (extensions and trailers read and dropped),
 * or until the connection closes. Shared by the request and the response side.
 */
import { Http1ParseError } from './errors.ts';
import { isFieldLine } from './fields.ts';

export type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'until-close' };

const MAX_CHUNK_LINE = 1024;
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const QUOTED = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x21-\\x7e\\x80-\\xff])*"';
/**
 * chunk-size [ chunk-ext ] (RFC 9112 §7.1.1), with no whitespace anywhere (as llhttp): a size line that a server
 * behind could read another way (spaces, a bare LF, a quoted CRLF, control characters) is refused.
 */
const CHUNK_LINE = new RegExp(`^([0-9A-Fa-f]{1,12})(?:;${TOKEN}(?:=(?:${TOKEN}|${QUOTED}))?)*$`);

const Phase = { LENGTH: 0, UNTIL_CLOSE: 1, CHUNK_SIZE: 2, CHUNK_DATA: 3, CHUNK_DATA_END: 4, TRAILERS: 5, DONE: 6 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

/** `last` is true when the slice is known to end the body (a known length). The slice may view the input buffer. */
export type OnBody = (chunk: Buffer, last: boolean) => void;

export class BodyDecoder {
  private phase: Phase = Phase.DONE;
  private remaining = 0;
  /** A chunk-size or trailer line cut across reads. */
  private pendingLine: Buffer | undefined = undefined;

  start(framing: Framing): void {
    this.pendingLine = undefined;
    switch (framing.kind) {
      case 'none':
        this.phase = Phase.DONE;
        break;
      case 'length':
        this.remaining = framing.length;
        this.phase = framing.length === 0 ? Phase.DONE : Phase.LENGTH;
        break;
      case 'chunked':
        this.phase = Phase.CHUNK_SIZE;
        break;
      case 'until-close':
        this.phase = Phase.UNTIL_CLOSE;
        break;
    }
  }

  get done(): boolean {
    return this.phase === Phase.DONE;
  }

  get untilClose(): boolean {
    return this.phase === Phase.UNTIL_CLOSE;
  }

  /** The connection closed: completes a close-delimited body. */
  close(): boolean {
    if (this.phase === Phase.UNTIL_CLOSE) this.phase = Phase.DONE;
    return this.phase === Phase.DONE;
  }

  /** Decodes from data[offset..] until the body ends or the data does; returns the offset reached. */
  feed(data: Buffer, offset: number, onBody: OnBody): number {
    while (offset < data.length && this.phase !== Phase.DONE) {
      switch (this.phase) {
        case Phase.LENGTH:
        case Phase.CHUNK_DATA: {
          const n = Math.min(this.remaining, data.length - offset);
          this.remaining -= n;
          const slice = data.subarray(offset, offset + n);
          offset += n;
          const ended = this.remaining === 0;
          if (ended) this.phase = this.phase === Phase.LENGTH ? Phase.DONE : Phase.CHUNK_DATA_END;
          onBody(slice, ended && this.phase === Phase.DONE);
          break;
        }
        case Phase.UNTIL_CLOSE:
          onBody(offset === 0 ? data : data.subarray(offset), false);
          offset = data.length;
          break;
        case Phase.CHUNK_SIZE:
        case Phase.TRAILERS:
        case Phase.CHUNK_DATA_END: {
          const line = this.readLine(data, offset);
          if (line === undefined) return data.length;
          offset = line.next;
          if (this.phase === Phase.CHUNK_DATA_END) {
            if (line.text !== '') throw new Http1ParseError('missing CRLF after chunk data');
            this.phase = Phase.CHUNK_SIZE;
          } else if (this.phase === Phase.CHUNK_SIZE) {
            const m = CHUNK_LINE.exec(line.text);
            if (m === null) throw new Http1ParseError('invalid chunk size line');
            this.remaining = parseInt(m[1]!, 16);
            this.phase = this.remaining === 0 ? Phase.TRAILERS : Phase.CHUNK_DATA;
          } else if (line.text === '') this.phase = Phase.DONE;
          // Trailers are dropped, but each must be a field line: a bare LF in one hides a message from a lax reader.
          else if (!isFieldLine(line.text)) throw new Http1ParseError('invalid trailer field');
          break;
        }
      }
    }
    return offset;
  }

  private readLine(data: Buffer, offset: number): { text: string; next: number } | undefined {
    let buf = data;
    let start = offset;
    if (this.pendingLine !== undefined) {
      buf = Buffer.concat([this.pendingLine, data.subarray(offset)]);
      start = 0;
    }
    const end = buf.indexOf('\r\n', start, 'latin1');
    if (end < 0) {
      if (buf.length - start > MAX_CHUNK_LINE) throw new Http1ParseError('line too long in chunked body');
      this.pendingLine = Buffer.from(buf.subarray(start));
      return undefined;
    }
    const text = buf.toString('latin1', start, end);
    const next = this.pendingLine === undefined ? end + 2 : offset + end + 2 - this.pendingLine.length;
    this.pendingLine = undefined;
    return { text, next };
  }
}
