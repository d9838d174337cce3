/**
 * The known HTTP/2 attacks, each driven by a raw client writing frames (test/support/h2-frames.ts): each must end
 * with the attacker's connection closed or its streams refused, the backends spared, and Fulcrum serving a normal
 * client afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBackend, type TestBackend } from '../support/backend.ts';
import { eventually } from '../support/eventually.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';
import { h2connect, h2request } from '../support/h2-client.ts';
import { ErrorCode, Flag, FrameType, frame, hpack, RawH2, requestHead, rstStream } from '../support/h2-frames.ts';

const MAX_RESETS = 50;
let backend: TestBackend;
let fulcrum: InProcessFulcrum;
/** Requests the backend holds unanswered (/hold…), each with whether it is still open. */
const holding = new Set<() => void>();
let held = 0;
let heldOpen = 0;

before(async () => {
  backend = await startBackend('origin');
  backend.handle((req, res) => {
    if (req.url?.startsWith('/hold')) {
      held++;
      heldOpen++;
      res.on('close', () => heldOpen--);
      const release = () => res.end('released');
      holding.add(release);
      res.on('close', () => holding.delete(release));
      return;
    }
    if (req.url === '/large') return void res.end(Buffer.alloc(1024 * 1024));
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`ok ${req.url}`);
  });
  fulcrum = await startFulcrum({
    http2: { h2c: true, max_client_resets: MAX_RESETS, client_reset_window: '10m' },
    limits: { send_timeout: '1s', keepalive_timeout: '2s' },
    pools: { p: { backends: [{ url: backend.url, max_connections: 1000 }], retries: { attempts: 0 } } },
  });
});

after(async () => {
  await fulcrum?.stop();
  await backend?.close();
});

/** Fulcrum is up and serves a normal HTTP/2 client and an HTTP/1.1 one. */
async function assertServes(): Promise<void> {
  const session = await h2connect(fulcrum.url);
  try {
    const res = await h2request(session, { ':path': '/normal' });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'ok /normal');
  } finally {
    session.close();
  }
  const h1 = await fetch(`${fulcrum.url}/normal-h1`);
  assert.equal(await h1.text(), 'ok /normal-h1');
}

const endHeaders = Flag.END_HEADERS | Flag.END_STREAM;

describe('HTTP/2 attacks', () => {
  test('rapid reset (CVE-2023-44487): streams opened and reset at once get GOAWAY ENHANCE_YOUR_CALM past the limit, and few reach the backend', async () => {
    const raw = await RawH2.connect(fulcrum.proxyPort);
    const heldBefore = held;
    let sent = 0;
    // Rounds of HEADERS + RST_STREAM pairs, as the attack's clients send them; a turn of the event loop between rounds.
    for (let round = 0; round < 100 && !raw.isClosed; round++) {
      const burst: Buffer[] = [];
      for (let i = 0; i < 10; i++) {
        const id = 2 * sent++ + 1;
        burst.push(frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, id, requestHead(`/hold/${id}`)), rstStream(id, ErrorCode.CANCEL));
      }
      await raw.write(Buffer.concat(burst));
      await new Promise((r) => setTimeout(r, 2));
    }
    await raw.until((f) => f.type === FrameType.GOAWAY, 'GOAWAY');
    assert.equal(raw.goaway(), ErrorCode.ENHANCE_YOUR_CALM);
    await raw.closed;
    assert.ok(sent > MAX_RESETS, `sent ${sent}`);
    const reached = held - heldBefore;
    assert.ok(reached <= MAX_RESETS + 10, `${reached} of ${sent} reset streams reached the backend`);
    await eventually(() => heldOpen === 0, 5000, 'the backend requests of reset streams to be closed');
    await assertServes();
  });

  test('streams reset once their requests reached the backend count too: past the limit GOAWAY, and every backend request is freed', async () => {
    const raw = await RawH2.connect(fulcrum.proxyPort);
    let next = 1;
    while (!raw.isClosed && next < 400) {
      const heldBefore = held;
      const ids = Array.from({ length: 10 }, () => (next += 2) - 2);
      await raw.write(Buffer.concat(ids.map((id) => frame(FrameType.HEADERS, endHeaders, id, requestHead(`/hold/late/${id}`)))));
      // The batch that crosses the limit may end in GOAWAY before all ten reach the backend.
      await eventually(() => held - heldBefore === 10 || raw.isClosed, 5000, 'the requests at the backend');
      await raw.write(Buffer.concat(ids.map((id) => rstStream(id, ErrorCode.CANCEL))));
      await eventually(() => heldOpen === 0 || raw.isClosed, 5000, 'the backend requests freed');
    }
    await raw.closed;
    assert.equal(raw.goaway(), ErrorCode.ENHANCE_YOUR_CALM);
    assert.ok(next - 1 <= 2 * (MAX_RESETS + 10), `${(next - 1) / 2} streams opened before GOAWAY`);
    await eventually(() => heldOpen === 0, 5000, 'every backend request closed');
    await assertServes();
  });

  test('a client resetting fewer streams than the limit keeps its connection', async () => {
    const raw = await RawH2.connect(fulcrum.proxyPort);
    for (let i = 0; i < MAX_RESETS / 2; i++) {
      const id = 2 * i + 1;
      await raw.write(frame(FrameType.HEADERS, endHeaders, id, requestHead(`/hold/few/${id}`)));
      await raw.write(rstStream(id, ErrorCode.CANCEL));
    }
    const id = MAX_RESETS + 1;
    await raw.write(frame(FrameType.HEADERS, endHeaders, id, requestHead('/still-served')));
    await raw.until((f) => f.type === FrameType.HEADERS && f.stream === id, 'the answer after the resets');
    assert.equal(raw.goaway(), undefined);
    raw.close();
    await eventually(() => heldOpen === 0, 5000, 'the backend requests of reset streams to be closed');
  });

  for (const [name, fields] of [
    ['with header fields', (i: number) => hpack([[`x-flood-${i}`, 'v'.repeat(100)]])],
    ['empty', () => Buffer.alloc(0)],
  ] as const) {
    test(`CONTINUATION flood (CVE-2024-27316), frames ${name}: headers that never end close the connection`, async () => {
      const raw = await RawH2.connect(fulcrum.proxyPort);
      const heldBefore = held;
      await raw.write(frame(FrameType.HEADERS, Flag.END_STREAM, 1, requestHead('/hold/continuation')));
      for (let i = 0; i < 20_000 && !raw.isClosed; i++) {
        // Awaited one batch at a time, so that a closed connection stops the writes.
        if (i % 500 === 0) await raw.write(frame(FrameType.CONTINUATION, 0, 1, fields(i)));
        else void raw.write(frame(FrameType.CONTINUATION, 0, 1, fields(i)));
      }
      await raw.closed;
      assert.notEqual(raw.goaway(), undefined, 'closed with GOAWAY');
      assert.notEqual(raw.goaway(), ErrorCode.NO_ERROR);
      assert.equal(held, heldBefore, 'no request reached the backend');
      await assertServes();
    });
  }

  for (const [name, flood] of [
    ['SETTINGS', () => frame(FrameType.SETTINGS, 0, 0, Buffer.from([0, 3, 0, 0, 0, 100]))],
    ['PING', () => frame(FrameType.PING, 0, 0, Buffer.alloc(8))],
  ] as const) {
    test(`${name} flood: a client that sends ${name} frames without reading their acknowledgements is disconnected`, async () => {
      const raw = await RawH2.connect(fulcrum.proxyPort);
      raw.socket.pause(); // never read: the acknowledgements pile up on Fulcrum's side
      const batch = Buffer.concat(Array.from({ length: 1000 }, flood));
      for (let i = 0; i < 500 && !raw.socket.destroyed; i++) {
        await Promise.race([raw.write(batch), raw.closed]);
      }
      await raw.closed;
      await assertServes();
    });
  }

  test('streams past max_concurrent_streams (128) are refused with REFUSED_STREAM while the client has not acknowledged the limit; the connection goes on', async () => {
    const raw = await RawH2.connect(fulcrum.proxyPort, { ackSettings: false });
    const heldBefore = held;
    const ids = Array.from({ length: 150 }, (_, i) => 2 * i + 1);
    await raw.write(Buffer.concat(ids.map((id) => frame(FrameType.HEADERS, endHeaders, id, requestHead(`/hold/limit/${id}`)))));
    await eventually(() => raw.resets().size === 22, 5000, '22 streams refused');
    for (const code of raw.resets().values()) assert.equal(code, ErrorCode.REFUSED_STREAM);
    await eventually(() => held - heldBefore === 128, 5000, '128 requests at the backend');
    for (const release of [...holding]) release();
    await eventually(() => raw.responseStreams().size === 128, 5000, '128 answers');
    const next = 2 * 150 + 1;
    await raw.write(frame(FrameType.HEADERS, endHeaders, next, requestHead('/after-limit')));
    await raw.until((f) => f.type === FrameType.HEADERS && f.stream === next, 'the answer on the same connection');
    assert.equal(raw.goaway(), undefined);
    raw.close();
    await assertServes();
  });

  test('a client that acknowledged max_concurrent_streams and exceeds it anyway gets GOAWAY PROTOCOL_ERROR', async () => {
    const raw = await RawH2.connect(fulcrum.proxyPort);
    const ids = Array.from({ length: 150 }, (_, i) => 2 * i + 1);
    await raw.write(Buffer.concat(ids.map((id) => frame(FrameType.HEADERS, endHeaders, id, requestHead(`/hold/over/${id}`)))));
    await raw.closed;
    assert.equal(raw.goaway(), ErrorCode.PROTOCOL_ERROR);
    await eventually(() => heldOpen === 0, 5000, 'no backend request left open');
    await assertServes();
  });

  test('a header list over limits.max_header_size is refused without reaching the backend, whether the client acknowledged the limit or not', async () => {
    for (const ackSettings of [true, false]) {
      const raw = await RawH2.connect(fulcrum.proxyPort, { ackSettings });
      const before = backend.count();
      // 20 kB of fields (the default limit is 16 kB), in a HEADERS and a CONTINUATION frame (each under 16 kB).
      const block = requestHead('/too-large', [['x-a', 'a'.repeat(10_000)], ['x-b', 'b'.repeat(10_000)]]);
      await raw.write(frame(FrameType.HEADERS, Flag.END_STREAM, 1, block.subarray(0, 12_000)));
      await raw.write(frame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, block.subarray(12_000)));
      await raw.write(frame(FrameType.HEADERS, endHeaders, 3, requestHead('/fits')));
      const answer = await raw.until((f) => f.stream === 1 && (f.type === FrameType.RST_STREAM || f.type === FrameType.HEADERS), 'a refusal');
      if (answer.type === FrameType.RST_STREAM) assert.equal(answer.payload.readUInt32BE(0), ErrorCode.ENHANCE_YOUR_CALM);
      else {
        const data = await raw.until((f) => f.stream === 1 && f.type === FrameType.DATA, 'the 431 body');
        assert.match(data.payload.toString(), /^431 .*\ncode: FUL_ERR_HEADERS_TOO_LARGE/s);
      }
      await raw.until((f) => f.type === FrameType.HEADERS && f.stream === 3, 'the next stream answered');
      assert.equal(backend.requests.filter((r) => r.url === '/too-large').length, 0);
      assert.equal(backend.count(), before + 1);
      raw.close();
    }
    await assertServes();
  });

  test('a stream whose client stops reading (its window never reopened) is reset after limits.send_timeout; the connection goes on', async () => {
    const raw = await RawH2.connect(fulcrum.proxyPort);
    await raw.write(frame(FrameType.HEADERS, endHeaders, 1, requestHead('/large')));
    const reset = await raw.until((f) => f.type === FrameType.RST_STREAM && f.stream === 1, 'the stalled stream reset');
    assert.equal(reset.payload.readUInt32BE(0), ErrorCode.INTERNAL_ERROR);
    await raw.write(frame(FrameType.HEADERS, endHeaders, 3, requestHead('/after-stall')));
    await raw.until((f) => f.type === FrameType.HEADERS && f.stream === 3, 'the next stream answered');
    raw.close();
    await assertServes();
  });

  test('a connection left without a stream is closed with GOAWAY NO_ERROR after limits.keepalive_timeout', async () => {
    const raw = await RawH2.connect(fulcrum.proxyPort);
    await raw.until((f) => f.type === FrameType.GOAWAY, 'GOAWAY');
    assert.equal(raw.goaway(), ErrorCode.NO_ERROR);
    await raw.closed;
  });

  test('garbage after the preface closes the connection with a GOAWAY, nothing more', async () => {
    const raw = await RawH2.connect(fulcrum.proxyPort);
    await raw.write(Buffer.from('\x00\x00\x04\x63\xff\xff\xff\xff\xffnot a frame at all'.repeat(10), 'latin1'));
    await raw.closed;
    await assertServes();
  });
});
