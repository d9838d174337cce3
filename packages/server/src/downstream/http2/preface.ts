/**
 * h2c with prior knowledge (RFC 9113 §3.3) on a plain listener: a connection whose first bytes are the HTTP/2
 * client preface is HTTP/2, any other is HTTP/1.1 (no HTTP/1.1 request line starts with "PRI * HTTP/2.0", the
 * method PRI being reserved for this, RFC 9113 §11.6). The bytes read to decide are put back for the codec chosen.
 */
import type { Socket } from 'node:net';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * Reads until the first bytes tell (usually the first read: an HTTP/1.1 method rarely starts with "P", and then
 * differs within its first letters), then calls `decided` with the socket paused and its bytes unread. A client
 * that sends nothing within `timeoutMs` (or closes) is dropped.
 */
export function readPreface(socket: Socket, timeoutMs: number, decided: (h2: boolean) => void): void {
  let seen: Buffer | undefined;
  const timer = setTimeout(() => socket.destroy(), timeoutMs).unref();
  const onData = (chunk: Buffer) => {
    seen = seen === undefined ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, PREFACE.length);
    const matches = seen.compare(PREFACE, 0, n, 0, n) === 0;
    if (matches && n < PREFACE.length) return; // so far a preface: wait for the rest
    done();
    socket.pause();
    socket.unshift(seen);
    decided(matches);
  };
  const done = () => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', done);
  };
  socket.on('data', onData);
  socket.on('error', () => {}); // 'close' follows
  socket.once('close', done);
}
