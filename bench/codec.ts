/**
 * `node bench/codec.ts`: CPU per message of Fulcrum's own HTTP/1.1 codec (src/http1) against llhttp, the parser
 * inside node:http, driven directly (node's HTTPParser binding), on the same bytes: request heads as wrk and as a
 * browser send them, and a 1 KB response as nginx sends it. In-process and single-threaded, so the figure is CPU
 * time, not throughput; medians of several rounds. This decided issue 13's design question (see bench/README.md).
 */
// @ts-expect-error: node's internal binding module has no types; it is what node:http itself parses with.
import { HTTPParser } from '_http_common';
import { HeadReader } from '../packages/server/src/http1/head-reader.ts';
import { parseRequestHead } from '../packages/server/src/http1/request-parser.ts';
import { ResponseParser } from '../packages/server/src/http1/response-parser.ts';

const WRK_REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n');
const BROWSER_REQUEST = Buffer.from(
  'GET /catalogue/products?page=2&sort=price HTTP/1.1\r\nHost: shop.example.com\r\n' +
    'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36\r\n' +
    'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: fr-FR,fr;q=0.9,en;q=0.8\r\n' +
    'Accept-Encoding: gzip, deflate, br\r\nCookie: session=abcdef0123456789; currency=EUR\r\nConnection: keep-alive\r\n' +
    'Cache-Control: max-age=0\r\nX-Request-Id: 0123456789abcdef\r\n\r\n',
);
const RESPONSE = Buffer.concat([
  Buffer.from(
    'HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Fri, 04 Dec 2026 12:00:00 GMT\r\nContent-Type: text/plain\r\n' +
      'Content-Length: 1024\r\nConnection: keep-alive\r\n\r\n',
  ),
  Buffer.alloc(1024, 'x'),
]);

const N = Number(process.env.BENCH_N ?? 300_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
let sink = 0;

function ownRequest(bytes: Buffer): () => void {
  const reader = new HeadReader(16 * 1024);
  return () => {
    const read = reader.read(bytes, 0)!;
    const head = parseRequestHead(read.head);
    sink += head.fields.raw.length;
  };
}

function llhttpRequest(bytes: Buffer): () => void {
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.REQUEST, {}, 16 * 1024, 0);
  parser[HTTPParser.kOnHeadersComplete] = (_maj: number, _min: number, headers: string[]) => (sink += headers.length);
  parser[HTTPParser.kOnMessageComplete] = () => {};
  return () => void parser.execute(bytes);
}

function ownResponse(bytes: Buffer): () => void {
  const parser = new ResponseParser({ onHead: (h) => (sink += h.headers.length), onBody: (c) => (sink += c.length) });
  return () => {
    parser.expect(false);
    parser.execute(bytes);
  };
}

function llhttpResponse(bytes: Buffer): () => void {
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.RESPONSE, {}, 64 * 1024, 0);
  parser[HTTPParser.kOnHeadersComplete] = (_maj: number, _min: number, headers: string[]) => (sink += headers.length);
  parser[HTTPParser.kOnBody] = (b: Buffer) => (sink += b.length);
  parser[HTTPParser.kOnMessageComplete] = () => {};
  return () => void parser.execute(bytes);
}

/** Median ns of CPU per call over ROUNDS rounds of N calls. */
function measure(fn: () => void): number {
  for (let i = 0; i < N / 3; i++) fn(); // warm up the JIT
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.cpuUsage();
    for (let i = 0; i < N; i++) fn();
    const used = process.cpuUsage(start);
    rounds.push(((used.user + used.system) * 1000) / N);
  }
  rounds.sort((a, b) => a - b);
  return rounds[Math.floor(rounds.length / 2)]!;
}

const cases: [string, () => void, () => void][] = [
  ['request head, wrk (1 field)', ownRequest(WRK_REQUEST), llhttpRequest(WRK_REQUEST)],
  ['request head, browser (10 fields)', ownRequest(BROWSER_REQUEST), llhttpRequest(BROWSER_REQUEST)],
  ['response, nginx 1 KB (5 fields)', ownResponse(RESPONSE), llhttpResponse(RESPONSE)],
];
console.log(`| message | Fulcrum http1 (ns CPU) | llhttp (ns CPU) | Fulcrum / llhttp |`);
console.log(`|---|---:|---:|---:|`);
for (const [name, own, ref] of cases) {
  const a = measure(own);
  const b = measure(ref);
  console.log(`| ${name} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${(a / b).toFixed(2)}x |`);
}
if (sink === 0) console.log('');
