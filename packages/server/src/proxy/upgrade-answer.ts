/**
 * A backend's answer to an Upgrade request: either 101 Switching Protocols (RFC 9110 §15.2.2), after which the
 * bytes belong to the new protocol, or any other final response, parsed strictly like every response
 * (http1/response-parser.ts) so that it can be forwarded with its own framing. Interim 1xx heads before either
 * are skipped, as they are for any request.
 */
import { parseFields } from '../http1/fields.ts';
import { HeadReader } from '../http1/head-reader.ts';
import { ResponseParser, type ResponseEvents } from '../http1/response-parser.ts';

export interface AnswerEvents extends ResponseEvents {
  /** 101: `headers` as received; `rest` holds the first bytes of the new protocol, if any came with the head. */
  onSwitch(headers: string[], rest: Buffer): void;
}

const MAX_HEAD_BYTES = 64 * 1024;
/** A 1xx status line; a malformed one is left to the response parser, which refuses it. */
const INTERIM = /^HTTP\/1\.[01] (1\d\d)(?: |$)/;

export class UpgradeAnswer {
  private readonly events: AnswerEvents;
  private readonly heads = new HeadReader(MAX_HEAD_BYTES);
  private readonly isHead: boolean;
  /** Set at the first final head that is not a 101: from then on the answer is an ordinary response. */
  private response: ResponseParser | undefined = undefined;
  private switched = false;

  constructor(events: AnswerEvents, isHead: boolean) {
    this.events = events;
    this.isHead = isHead;
  }

  /** Whether the head of a response (not a 101) has been read: it is being forwarded. */
  get responding(): boolean {
    return this.response !== undefined;
  }

  /**
   * Feeds the backend's bytes; true when they complete a response (never for a 101, after which nothing more is
   * read here). Throws ResponseParseError (Http1ParseError) on a malformed answer.
   */
  execute(data: Buffer): boolean {
    if (this.response !== undefined) return this.response.execute(data);
    if (this.switched) return false;
    let offset = 0;
    for (;;) {
      const read = this.heads.read(data, offset);
      if (read === undefined) return false;
      const status = INTERIM.exec(read.head)?.[1];
      if (status === '101') {
        this.switched = true;
        this.events.onSwitch(parseFields(read.head.split('\r\n'), 1).raw, data.subarray(read.next));
        return false;
      }
      if (status === undefined) return this.respond(read.head, data.subarray(read.next));
      offset = read.next; // 100, 102, 103: the answer follows
    }
  }

  /** The connection closed: true when that completes a response whose body ran until the close. */
  finish(): boolean {
    return this.response !== undefined && this.response.readsUntilClose && this.response.finish();
  }

  private respond(head: string, rest: Buffer): boolean {
    const events = this.events;
    const parser = new ResponseParser({ onHead: (h) => events.onHead(h), onBody: (chunk, last) => events.onBody(chunk, last) });
    parser.expect(this.isHead);
    this.response = parser;
    // The head goes through the parser as received (the latin1 text maps back to the same bytes).
    return parser.execute(Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), rest]));
  }
}
