import { describe, expect, test } from 'vitest';
import { counters, pool, sample, snapshot } from '../test-fixtures.ts';
import { changesPools, LiveStore, MAX_SAMPLES } from './live-store.ts';
import type { FulcrumEvent, PoolView } from './types.ts';

/** GET /api/pools answered by hand: each call waits until the test settles it. */
function pendingPools() {
  const calls: Array<{ resolve(v: PoolView[]): void; reject(e: Error): void }> = [];
  const api = { pools: () => new Promise<PoolView[]>((resolve, reject) => calls.push({ resolve, reject })) };
  return { api, calls };
}

const flush = () => new Promise((r) => setTimeout(r, 0));
const at = '2026-11-26T10:00:00.000Z';
const stateChange: FulcrumEvent = { at, type: 'backend-state', pool: 'web', backend: 'http://b0', from: 'healthy', to: 'ejected', reason: 'ejected' };
const tickOf = (n: number) => sample(n * 1000, snapshot({ 'http://b0': counters(n) }));

describe('LiveStore', () => {
  test('a tick replaces the samples and keeps the other slices the same objects', async () => {
    const { api, calls } = pendingPools();
    const store = new LiveStore(api);
    store.watchPools();
    calls[0]!.resolve([pool('web', [])]);
    await flush();
    const before = store.get();
    store.stats(tickOf(1));
    const after = store.get();
    expect(after.samples).not.toBe(before.samples);
    expect([after.pools, after.events, after.status]).toEqual([before.pools, before.events, before.status]);
    expect(after.pools).toBe(before.pools);
    expect(after.events).toBe(before.events);
  });

  test('keeps the last five minutes of samples, oldest first', () => {
    const store = new LiveStore(pendingPools().api);
    for (let n = 1; n <= MAX_SAMPLES + 5; n++) store.stats(tickOf(n));
    expect(store.get().samples).toHaveLength(MAX_SAMPLES);
    expect(store.get().samples[0]!.t).toBe(6000);
  });

  test('fetches the pools only while shown, and after a change announced while hidden when shown again', async () => {
    const { api, calls } = pendingPools();
    const store = new LiveStore(api);
    store.status('connected');
    store.event(stateChange);
    expect(calls).toHaveLength(0);
    const unwatch = store.watchPools();
    expect(calls).toHaveLength(1);
    calls[0]!.resolve([]);
    await flush();
    unwatch();
    store.watchPools();
    expect(calls, 'nothing changed since: no fetch').toHaveLength(1);
  });

  test('a burst of changes during a fetch brings one more fetch after it, not one each', async () => {
    const { api, calls } = pendingPools();
    const store = new LiveStore(api);
    store.status('connected');
    store.watchPools();
    for (let i = 0; i < 10; i++) store.event(stateChange);
    expect(calls).toHaveLength(1);
    calls[0]!.resolve([]);
    await flush();
    expect(calls).toHaveLength(2);
    calls[1]!.resolve([pool('web', [])]);
    await flush();
    expect(calls).toHaveLength(2);
    expect(store.get().pools.views).toEqual([pool('web', [])]);
  });

  test('fetches again when the stream reconnects: events sent meanwhile were lost', async () => {
    const { api, calls } = pendingPools();
    const store = new LiveStore(api);
    store.status('connected');
    store.watchPools();
    calls[0]!.resolve([]);
    await flush();
    store.status('disconnected');
    store.status('connecting');
    expect(calls).toHaveLength(1);
    store.status('connected');
    expect(calls).toHaveLength(2);
  });

  test('a failed fetch shows its error, keeps the last pools, and is tried again on the next tick', async () => {
    const { api, calls } = pendingPools();
    const store = new LiveStore(api);
    store.status('connected');
    store.watchPools();
    calls[0]!.resolve([pool('web', [])]);
    await flush();
    store.event(stateChange);
    calls[1]!.reject(new Error('503'));
    await flush();
    expect(store.get().pools).toEqual({ views: [pool('web', [])], error: '503' });
    store.stats(tickOf(1));
    expect(calls).toHaveLength(3);
    calls[2]!.resolve([]);
    await flush();
    expect(store.get().pools).toEqual({ views: [], error: undefined });
    store.stats(tickOf(2));
    expect(calls).toHaveLength(3);
  });

  test('the events that change what GET /api/pools answers are those that change backends, weights or algorithms', () => {
    const events: FulcrumEvent[] = [
      stateChange,
      { at, type: 'config-reloaded' },
      { at, type: 'runtime-change', change: { kind: 'remove-backend', pool: 'web', backend: 'http://b0' }, by: '127.0.0.1' },
      { at, type: 'config-rejected', problems: [] },
      { at, type: 'cache-purge', kind: 'url', value: 'http://x/' },
    ];
    expect(events.map((e) => [e.type, changesPools(e)])).toEqual([
      ['backend-state', true],
      ['config-reloaded', true],
      ['runtime-change', true],
      ['config-rejected', false],
      ['cache-purge', false],
    ]);
  });
});
