/**
 * GET /api/events/stream end to end: Server-Sent Events carrying stats every second and control plane events. The
 * stream's schedule is on the control plane's time, which these tests move by hand.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBackends, type TestBackend } from '../support/backend.ts';
import { eventually } from '../support/eventually.ts';
import { FakeTime } from '../support/fake-time.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';

interface SseMessage {
  event: string;
  data: unknown;
}

let bs: TestBackend[];
let fulcrum: InProcessFulcrum;
const time = new FakeTime();

before(async () => {
  bs = await startBackends(2);
  fulcrum = await startFulcrum({ pools: { web: { backends: bs.map((b) => ({ url: b.url })) } } }, undefined, { controlTime: time });
});

after(async () => {
  await fulcrum?.stop();
  for (const b of bs ?? []) await b.close();
});

/** Reads SSE messages from a fetch body into `into` until the signal aborts. */
async function readMessages(body: ReadableStream<Uint8Array>, into: SseMessage[]): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = Object.fromEntries(block.split('\n').filter((l) => !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
        if (fields.event !== undefined) into.push({ event: fields.event, data: JSON.parse(fields.data ?? 'null') });
      }
    }
  } catch {
    // aborted by the test
  }
}

/** The first message `match` accepts, once one has come. */
async function messageMatching(messages: SseMessage[], match: (m: SseMessage) => boolean, timeoutMs: number, what: string): Promise<SseMessage> {
  let found: SseMessage | undefined;
  await eventually(() => (found = messages.find(match)) !== undefined, timeoutMs, what);
  return found!;
}

test('the stream sends the statistics every second and a backend-state event when a backend is drained through the API', async () => {
  const controller = new AbortController();
  const res = await fetch(`${fulcrum.adminUrl}/api/events/stream`, { signal: controller.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const messages: SseMessage[] = [];
  const reading = readMessages(res.body!, messages);
  try {
    const stats = () => messages.filter((m) => m.event === 'stats');
    await time.advance(1000);
    const first = await messageMatching(messages, (m) => m.event === 'stats', 5000, 'a stats message');
    assert.ok(typeof (first.data as { pools: unknown }).pools === 'object');
    await time.advance(2000);
    await eventually(() => stats().length === 3, 5000, 'a stats message per second');

    const drain = await fetch(`${fulcrum.adminUrl}/api/pools/web/backends/${encodeURIComponent(bs[1]!.url)}/drain`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    assert.equal(drain.status, 200);
    const event = await messageMatching(messages, (m) => m.event === 'backend-state', 5000, 'a backend-state event');
    assert.deepEqual(
      (({ type, pool, backend, to }) => ({ type, pool, backend, to }))(event.data as Record<string, unknown>),
      { type: 'backend-state', pool: 'web', backend: bs[1]!.url, to: 'draining' },
    );
  } finally {
    controller.abort();
    await reading;
  }
});

test('a client that disconnects is unsubscribed from the control plane', async () => {
  // Counts the stream's subscriptions through the public subscribe(), wrapped for this test.
  const control = fulcrum.control;
  const subscribe = control.subscribe.bind(control);
  let open = 0;
  control.subscribe = (listener) => {
    open++;
    const unsubscribe = subscribe(listener);
    return () => {
      open--;
      return unsubscribe();
    };
  };
  try {
    const controller = new AbortController();
    const res = await fetch(`${fulcrum.adminUrl}/api/events/stream`, { signal: controller.signal });
    const reading = readMessages(res.body!, []);
    assert.equal(open, 1, 'subscribed once the stream is open');
    controller.abort();
    await reading;
    await eventually(() => open === 0, 2000, 'the subscription to end');
  } finally {
    control.subscribe = subscribe;
  }
});
