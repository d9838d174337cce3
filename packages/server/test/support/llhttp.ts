/**
 * The reference parser of the differential framing tests: llhttp, the parser of node:http, reached in-process
 * through node's own binding (`node:_http_common`) and configured as a node:http server or client is by default
 * (`insecureHTTPParser: false`: no lenient flag). On top of llhttp it applies the one framing-relevant check the
 * node:http server adds (`requireHostHeader`: an HTTP/1.1 request without Host is refused with 400).
 *
 * It reads a byte stream, fed in any pieces, into the messages llhttp sees: for each, its head, the body bytes
 * it delivered, and whether it completed; and the error that stopped it, if one did.
 */
import { createRequire } from 'node:module';

/** The part of node's internal HTTPParser binding used here (lib/_http_common.js, src/node_http_parser.cc). */
interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenientFlags: number): void;
  /** Bytes parsed, or an Error with `code`, `reason` and `bytesParsed`. */
  execute(data: Buffer): number | (Error & { code?: string; reason?: string; bytesParsed?: number });
  finish(): undefined | (Error & { code?: string; reason?: string });
  close(): void;
  [callback: number]: unknown;
}

interface NativeParserClass {
  new (): NativeParser;
  readonly REQUEST: number;
  readonly RESPONSE: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
  readonly kLenientNone: number;
}

const common = createRequire(import.meta.url)('node:_http_common') as { HTTPParser: NativeParserClass; methods: string[] };
const { HTTPParser } = common;

/**
 * Method names by llhttp's enum index. The binding hands the index only; node's own table of all of them is not
 * exported, so it is read once by parsing each method llhttp knows.
 */
const METHOD_BY_INDEX: ReadonlyMap<number, string> = (() => {
  const map = new Map<number, string>();
  for (const name of [...common.methods, 'QUERY']) {
    const parser = new HTTPParser();
    parser.initialize(HTTPParser.REQUEST, {}, 0, HTTPParser.kLenientNone);
    parser[HTTPParser.kOnHeadersComplete] = (_maj: number, _min: number, _h: unknown, method: number) => void map.set(method, name);
    parser.execute(Buffer.from(`${name} / HTTP/1.1\r\nHost: x\r\n\r\n`, 'latin1'));
    parser.close();
  }
  return map;
})();

/** The methods llhttp knows: any other token is refused in a request line. */
export const LLHTTP_METHODS: ReadonlySet<string> = new Set(METHOD_BY_INDEX.values());

export interface ParsedMessage {
  /** '' for a response. */
  readonly method: string;
  /** '' for a response. */
  readonly target: string;
  /** 0 for a request. */
  readonly status: number;
  readonly minor: number;
  /** Flat [name, value, …] as llhttp split them. */
  readonly headers: readonly string[];
  readonly keepAlive: boolean;
  /** llhttp stopped here to hand the rest of the stream over (Upgrade, CONNECT, a 101). */
  readonly upgrade: boolean;
  /** The body bytes delivered so far. */
  body: Buffer;
  complete: boolean;
}

export interface ParserOptions {
  /** For responses: whether the response at this index (1xx not counted) answers a HEAD, so has no body. */
  readonly noBody?: (index: number) => boolean;
  /** Called when a message completes (used by the recording backend to answer). */
  readonly onComplete?: (message: ParsedMessage) => void;
}

/** An incremental llhttp parser in strict mode, request or response side. */
export class ReferenceParser {
  readonly messages: ParsedMessage[] = [];
  /** Why parsing stopped: llhttp's code and reason, or the node:http server's Host check. */
  error: string | undefined = undefined;
  /** Bytes consumed before the error, across all pieces (for the Host check: before the piece it came in). */
  errorOffset = -1;
  /** The target of the request the error stopped, when its request line had been read. */
  errorTarget: string | undefined = undefined;
  private consumed = 0;
  private readonly parser = new HTTPParser();
  private readonly kind: 'request' | 'response';
  private readonly options: ParserOptions;
  private current: ParsedMessage | undefined = undefined;
  private finals = 0;
  private pendingHeaders: string[] = [];
  private pendingUrl = '';

  constructor(kind: 'request' | 'response', options: ParserOptions = {}) {
    this.kind = kind;
    this.options = options;
    const p = this.parser;
    p.initialize(kind === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE, {}, 0, HTTPParser.kLenientNone);
    // Heads with many fields arrive in parts before kOnHeadersComplete (as in node's parserOnHeaders).
    p[HTTPParser.kOnHeaders] = (headers: string[], url: string) => {
      this.pendingHeaders.push(...headers);
      this.pendingUrl += url;
    };
    p[HTTPParser.kOnHeadersComplete] = (
      _major: number,
      minor: number,
      headers: string[] | undefined,
      method: number | undefined,
      url: string | undefined,
      status: number,
      _reason: string,
      upgrade: boolean,
      keepAlive: boolean,
    ) => this.onHeadersComplete(minor, headers ?? this.takeHeaders(), method, url ?? this.takeUrl(), status, upgrade, keepAlive);
    p[HTTPParser.kOnBody] = (chunk: Buffer) => {
      const m = this.current;
      if (m !== undefined) m.body = Buffer.concat([m.body, chunk]);
    };
    p[HTTPParser.kOnMessageComplete] = () => {
      // Trailer fields came through kOnHeaders, with the URL again: dropped, as node's parserOnMessageComplete does.
      this.pendingHeaders = [];
      this.pendingUrl = '';
      const m = this.current;
      if (m === undefined) return;
      m.complete = true;
      this.options.onComplete?.(m);
    };
  }

  /** Whether parsing has stopped (an error, or an upgrade handed the stream over). */
  get stopped(): boolean {
    return this.error !== undefined || this.messages.at(-1)?.upgrade === true;
  }

  push(data: Buffer): void {
    if (this.stopped || data.length === 0) return;
    const result = this.parser.execute(data);
    if (result instanceof Error) {
      this.fail(`${result.code ?? 'error'}: ${result.reason ?? result.message}`, this.consumed + (result.bytesParsed ?? 0));
    } else this.consumed += result;
  }

  /** The stream ended (EOF): completes a body read until close, or reports a message cut short. */
  end(): void {
    if (this.stopped) return;
    const result = this.parser.finish();
    if (result instanceof Error) this.fail(`${result.code ?? 'error'}: ${result.reason ?? result.message}`, this.consumed);
  }

  close(): void {
    this.parser.close();
  }

  private fail(error: string, offset: number, target = this.current?.complete === false ? this.current.target : undefined): void {
    if (this.error !== undefined) return;
    this.error = error;
    this.errorOffset = offset;
    this.errorTarget = target === '' ? undefined : target;
  }

  private takeHeaders(): string[] {
    const h = this.pendingHeaders;
    this.pendingHeaders = [];
    return h;
  }

  private takeUrl(): string {
    const u = this.pendingUrl;
    this.pendingUrl = '';
    return u;
  }

  /** Returns what node's callbacks return: 1 tells llhttp that the message has no body (a response to HEAD). */
  private onHeadersComplete(
    minor: number,
    headers: string[],
    method: number | undefined,
    url: string,
    status: number,
    upgrade: boolean,
    keepAlive: boolean,
  ): number {
    const isRequest = this.kind === 'request';
    if (this.error !== undefined) return 0; // refused by the Host check earlier in this same piece
    if (isRequest && minor === 1 && !hasField(headers, 'host')) {
      // node:http's requireHostHeader: answered 400 and closed, never handed to the application.
      this.fail('node:http: HTTP/1.1 request without Host', this.consumed, url);
      this.current = undefined;
      return 0;
    }
    const message: ParsedMessage = {
      method: isRequest ? (METHOD_BY_INDEX.get(method ?? -1) ?? `#${method}`) : '',
      target: isRequest ? url : '',
      status: isRequest ? 0 : status,
      minor,
      headers,
      keepAlive,
      upgrade,
      body: Buffer.alloc(0),
      complete: false,
    };
    this.current = message;
    this.messages.push(message);
    if (isRequest || (status >= 100 && status < 200 && status !== 101)) return 0;
    const index = this.finals++;
    return this.options.noBody?.(index) === true ? 1 : 0;
  }
}

function hasField(headers: readonly string[], name: string): boolean {
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === name) return true;
  return false;
}

/** Parses a whole stream fed in `pieces`, optionally followed by EOF. */
export function referenceParse(
  kind: 'request' | 'response',
  pieces: readonly Buffer[],
  options: ParserOptions & { readonly eof?: boolean } = {},
): ReferenceParser {
  const parser = new ReferenceParser(kind, options);
  for (const piece of pieces) parser.push(piece);
  if (options.eof === true) parser.end();
  parser.close();
  return parser;
}
