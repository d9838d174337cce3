/**
 * A real ACME server for tests: Pebble (Let's Encrypt's test CA, Debian package `pebble`) on free loopback ports,
 * with pebble-challtestsrv as its DNS, answering every name with 127.0.0.1, so that any test name validates
 * against Fulcrum's listeners. Pebble validates for real (PEBBLE_VA_ALWAYS_VALID=0) on the HTTP-01 and
 * TLS-ALPN-01 ports it is given: the test's Fulcrum listens there. Never a public CA.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import https from 'node:https';
import { join } from 'node:path';
import { closedPort } from './backend.ts';
import { makeCa, makeCert, type TestCa } from './certs.ts';

export interface TestPebble {
  /** The ACME directory URL. */
  readonly directory: string;
  /** The CA of Pebble's own HTTPS (trust it to talk to the directory). */
  readonly apiCa: TestCa;
  /** Pebble's issuing root, PEM: to verify the certificates it issues. */
  root(): Promise<string>;
  output(): string;
  stop(): Promise<void>;
}

export async function startPebble(ports: { http: number; tls: number }): Promise<TestPebble> {
  const apiCa = await makeCa('Pebble API test CA');
  const apiCert = await makeCert(apiCa, ['localhost', '127.0.0.1'], 'pebble-api');
  const [acmePort, managementPort, dnsPort, challtestPort] = await Promise.all([closedPort(), closedPort(), closedUdpPort(), closedPort()]);
  const configFile = join(apiCa.dir, 'pebble.json');
  await writeFile(
    configFile,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: apiCert.certFile,
        privateKey: apiCert.keyFile,
        httpPort: ports.http,
        tlsPort: ports.tls,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  );
  let out = '';
  const children: ChildProcess[] = [];
  const launch = (command: string, args: string[], env: Record<string, string> = {}) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.once('exit', () => process.off('exit', reap));
    children.push(child);
    return child;
  };
  // The DNS only: every A query answers 127.0.0.1, no AAAA (so Pebble dials IPv4, where Fulcrum listens).
  launch('pebble-challtestsrv', [
    '-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '',
    '-management', `127.0.0.1:${challtestPort}`, '-defaultIPv4', '127.0.0.1', '-defaultIPv6', '',
  ]);
  launch('pebble', ['-config', configFile, '-dnsserver', `127.0.0.1:${dnsPort}`, '-strict=false'], {
    PEBBLE_VA_NOSLEEP: '1',
    PEBBLE_VA_ALWAYS_VALID: '0',
    PEBBLE_WFE_NONCEREJECT: '0', // no random badNonce refusals: tests stay quick and deterministic
    PEBBLE_AUTHZREUSE: '0',
  });
  const directory = `https://127.0.0.1:${acmePort}/dir`;
  const stop = async () => {
    await Promise.all(
      children.map((c) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : (c.once('exit', () => resolve()), c.kill('SIGKILL'))))),
    );
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if ((await get(directory, apiCa.cert).catch(() => undefined)) !== undefined) break;
    if (Date.now() > deadline || children.some((c) => c.exitCode !== null)) {
      await stop();
      throw new Error(`pebble did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    directory,
    apiCa,
    root: () => get(`https://127.0.0.1:${managementPort}/roots/0`, apiCa.cert),
    output: () => out,
    stop,
  };
}

function get(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

/** A free UDP port on loopback (the DNS listens on UDP and TCP: the TCP one is checked free as well). */
async function closedUdpPort(): Promise<number> {
  const dgram = await import('node:dgram');
  for (;;) {
    const socket = dgram.createSocket('udp4');
    const port = await new Promise<number>((resolve) => socket.bind(0, '127.0.0.1', () => resolve(socket.address().port)));
    socket.close();
    const tcp = await import('node:net');
    const free = await new Promise<boolean>((resolve) => {
      const server = tcp.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}
