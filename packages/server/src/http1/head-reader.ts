/** Collects a message head up to its empty line, across reads, within a size limit. */
import { Http1ParseError } from './errors.ts';

export class HeadReader {
  private pending: Buffer | undefined = undefined;
  private readonly max: number;

  constructor(maxBytes: number) {
    this.max = maxBytes;
  }

  /** Whether part of a head is waiting for more bytes. */
  get partial(): boolean {
    return this.pending !== undefined;
  }

  reset(): void {
    this.pending = undefined;
  }

  /**
   * Reads from data[offset..]: the head's text (without the final CRLFCRLF) and the offset after it, or
   * undefined when the head is not complete yet (the bytes are kept). Throws when the head is too large.
   */
  read(data: Buffer, offset: number): { head: string; next: number } | undefined {
    let buf = data;
    let start = offset;
    let searchFrom = offset;
    if (this.pending !== undefined) {
      // Re-scan from 3 bytes before the seam, so that a CRLFCRLF split across reads is found.
      searchFrom = Math.max(0, this.pending.length - 3);
      buf = Buffer.concat([this.pending, data.subarray(offset)]);
      start = 0;
    }
    const end = buf.indexOf('\r\n\r\n', searchFrom, 'latin1');
    if (end < 0 ? buf.length - start > this.max : end - start > this.max) {
      throw new Http1ParseError('message head too large', true);
    }
    if (end < 0) {
      this.pending = Buffer.from(buf.subarray(start));
      return undefined;
    }
    const next = this.pending === undefined ? end + 4 : offset + end + 4 - this.pending.length;
    this.pending = undefined;
    return { head: buf.toString('latin1', start, end), next };
  }
}
