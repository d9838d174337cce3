/** A malformed HTTP/1.1 message, in either direction. `tooLarge` when a size limit was passed (431 for a request head). */
export class Http1ParseError extends Error {
  override readonly name = 'Http1ParseError';
  readonly tooLarge: boolean;

  constructor(message: string, tooLarge = false) {
    super(message);
    this.tooLarge = tooLarge;
  }
}
