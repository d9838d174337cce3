/** TLS clients for tests: a bare handshake (what certificate, which protocol) and HTTPS requests on node:https. */
import https from 'node:https';
import tls, { type ConnectionOptions, type PeerCertificate, type TLSSocket } from 'node:tls';

export interface Handshake {
  readonly socket: TLSSocket;
  readonly cert: PeerCertificate;
  readonly protocol: string | null;
}

/** Connects to 127.0.0.1:port with `options` (servername, ca, versions…); rejects when the handshake fails. */
export function handshake(port: number, options: ConnectionOptions = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options }, () => {
      resolve({ socket, cert: socket.getPeerCertificate(), protocol: socket.getProtocol() });
    });
    socket.once('error', reject);
  });
}

/** The DNS names of a peer certificate. */
export function namesOf(cert: PeerCertificate): string[] {
  return (cert.subjectaltname ?? '').split(', ').filter((e) => e.startsWith('DNS:')).map((e) => e.slice(4));
}

export interface HttpsAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  readonly reusedSocket: boolean;
  readonly fingerprint: string | undefined;
}

export function httpsGet(
  port: number,
  path: string,
  options: { ca?: string; servername?: string; agent?: https.Agent; headers?: Record<string, string> } = {},
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path, ca: options.ca, servername: options.servername, agent: options.agent, headers: options.headers },
      (res) => {
        const fingerprint = (res.socket as TLSSocket).getPeerCertificate?.()?.fingerprint256;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body,
            reusedSocket: req.reusedSocket,
            fingerprint,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}
