/**
 * HTTP/2 to clients through node:http2: connections accepted by the downstream listener (h2c after its preface,
 * or TLS after ALPN chose "h2") become sessions here, with the limits that keep one client from taking the process:
 * streams at once (SETTINGS_MAX_CONCURRENT_STREAMS, more get REFUSED_STREAM), the header list (its size as
 * limits.max_header_size, its field count to match), the memory one session may hold (past it, new streams are
 * refused and a flood of frames closes it), and nghttp2's guards against SETTINGS, PING and CONTINUATION floods
 * (CVE-2019-9512/9515, CVE-2024-27316), which close the session. Upgrades over HTTP/2 (extended CONNECT, RFC 8441)
 * are not offered: SETTINGS_ENABLE_CONNECT_PROTOCOL stays 0, so such a stream is reset by nghttp2.
 */
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { ConnectionHandlers } from '../connection.ts';
import { H2Session, type H2Events, type H2Limits } from './session.ts';

export interface H2Options extends H2Limits {
  readonly maxConcurrentStreams: number;
  /** Bytes nghttp2 may hold for one session (header tables, frames not yet sent, stream state). */
  readonly maxSessionMemory: number;
}

/** RFC 9113 §6.5.2 counts 32 octets per field: the field count the header list size allows, pseudo-fields beside. */
const FIELD_OVERHEAD = 32;
const PSEUDO_FIELDS = 5;

export class H2Endpoint {
  private readonly server: http2.Http2Server;
  private readonly sessions = new Set<H2Session>();
  private draining = false;

  constructor(options: H2Options, handlers: ConnectionHandlers, events: H2Events) {
    this.server = http2.createServer({
      settings: {
        maxConcurrentStreams: options.maxConcurrentStreams,
        maxHeaderListSize: options.maxHeaderSize,
        enableConnectProtocol: false,
      },
      maxHeaderListPairs: Math.ceil(options.maxHeaderSize / FIELD_OVERHEAD) + PSEUDO_FIELDS,
      maxSessionMemory: Math.max(1, options.maxSessionMemory / (1024 * 1024)),
    });
    this.server.on('session', (session: http2.ServerHttp2Session) => {
      const h2 = new H2Session(session, options, handlers, events, session.encrypted === true);
      this.sessions.add(h2);
      session.once('close', () => this.sessions.delete(h2));
      if (this.draining) h2.drain();
    });
  }

  /** Runs HTTP/2 on a connection whose next bytes are the client preface (a TLS one agreed on "h2"). */
  serve(socket: Socket): void {
    this.server.emit('connection', socket);
  }

  checkDeadline(now: number): void {
    for (const session of this.sessions) session.checkDeadline(now);
  }

  get busy(): number {
    let n = 0;
    for (const session of this.sessions) if (session.busy) n++;
    return n;
  }

  /** GOAWAY to every session: streams open finish, no new ones start. */
  drain(): void {
    this.draining = true;
    for (const session of this.sessions) session.drain();
  }

  closeAll(): void {
    for (const session of this.sessions) session.close();
  }
}
