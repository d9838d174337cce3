/** Clients from chosen loopback addresses (127.0.0.0/8 is all loopback on Linux), for rate and connection limits. */
import http from 'node:http';
import net from 'node:net';
import type { Reply } from './client.ts';

export interface FromOptions {
  /** The local address to connect from, e.g. 127.0.0.2: Fulcrum sees it as the client's. */
  readonly from?: string;
  readonly headers?: http.OutgoingHttpHeaders;
}

/** One GET on its own connection from `from`. */
export function getFrom(url: string, options: FromOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, localAddress: options.from, headers: options.headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode!, headers: res.headers, body, text: body.toString() });
        });
      })
      .on('error', reject);
  });
}

/** A connection from `from`, open once the kernel accepted it (Fulcrum decides after that). */
export function connectFrom(port: number, from: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: from });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Sends a keep-alive GET on `socket` and resolves with the status of the answer once its head arrived, or 'closed'
 * when the connection ends without one (a connection refused at accept). One request per socket.
 */
export function askOn(socket: net.Socket, path = '/'): Promise<number | 'closed'> {
  return new Promise((resolve) => {
    let got = '';
    const onData = (d: Buffer) => {
      got += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})[^]*?\r\n\r\n/.exec(got);
      if (m) done(Number(m[1]));
    };
    const onClose = () => done('closed');
    const done = (result: number | 'closed') => {
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(result);
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.on('error', () => {}); // a reset: 'close' follows
    socket.write(`GET ${path} HTTP/1.1\r\nHost: limits.example\r\n\r\n`);
  });
}
