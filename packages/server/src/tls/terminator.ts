/**
 * TLS termination of one accepted connection: reads the ClientHello (client-hello.ts), picks the certificate by
 * server name, or the TLS-ALPN-01 challenge certificate when the client offers only to validate (RFC 8737 §3),
 * then lets OpenSSL run the handshake on the same bytes. The connection is handed on once it is secure; one that
 * sends no hello, a malformed one, or takes longer than the handshake timeout is closed.
 */
import type { Socket } from 'node:net';
import tls, { type SecureContext, type TLSSocket } from 'node:tls';
import { ACME_TLS_ALPN, ALPN_PROTOCOLS } from './alpn.ts';
import { readClientHello } from './client-hello.ts';

/** What a TLS listener serves at this moment: read per handshake, so a swap applies to the next one. */
export interface TlsSource {
  /** The context for a server name (undefined: none sent); undefined when there is no certificate to offer. */
  select(servername: string | undefined): SecureContext | undefined;
  /** The TLS-ALPN-01 answer for a name while its challenge is on. */
  challenge(servername: string): SecureContext | undefined;
}

export type TlsRefusal = 'timeout' | 'not-tls' | 'no-certificate' | 'handshake';

export function terminate(
  socket: Socket,
  source: TlsSource,
  timeoutMs: number,
  onSecure: (secure: TLSSocket) => void,
  onRefused: (why: TlsRefusal) => void,
): void {
  let received: Buffer = Buffer.alloc(0);
  let done = false;
  const refuse = (why: TlsRefusal) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.destroy();
    onRefused(why);
  };
  const timer = setTimeout(() => refuse('timeout'), timeoutMs).unref();
  const onData = (chunk: Buffer) => {
    received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
    const hello = readClientHello(received);
    if (hello.kind === 'partial') return;
    socket.off('data', onData);
    socket.pause();
    if (hello.kind === 'invalid') return refuse('not-tls');
    const validating = hello.alpn.includes(ACME_TLS_ALPN);
    const context = validating
      ? hello.servername !== undefined ? source.challenge(hello.servername) : undefined
      : source.select(hello.servername);
    if (context === undefined) return refuse('no-certificate');
    socket.unshift(received); // OpenSSL reads the hello from the start (TLSSocket takes buffered bytes first)
    const secure = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext: context,
      ALPNProtocols: validating ? [ACME_TLS_ALPN] : [...ALPN_PROTOCOLS],
    });
    const onError = () => refuse('handshake');
    secure.once('error', onError);
    secure.once('secure', () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      secure.off('error', onError);
      secure.on('error', () => {}); // the connection's own handler comes next; 'close' follows an error
      // A validation handshake is over once it is made: the validator only reads the certificate.
      if (validating) secure.end();
      else onSecure(secure);
    });
  };
  socket.on('data', onData);
  socket.on('error', () => refuse('handshake'));
  socket.on('end', () => refuse('handshake'));
}
