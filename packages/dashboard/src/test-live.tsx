/** Renders components inside a live store that a test feeds as the live stream would. */
import type { ReactElement } from 'react';
import { act, render, type RenderResult } from '@testing-library/react';
import type { Api } from './lib/api.ts';
import type { LiveStatus } from './lib/live.ts';
import { LiveContext } from './lib/live-context.ts';
import { LiveStore } from './lib/live-store.ts';
import type { FulcrumEvent, Sample } from './lib/types.ts';

export interface LiveInput {
  /** GET /api/pools; without it, a fetch fails the test's pools view. */
  api?: Pick<Api, 'pools'>;
  status?: LiveStatus;
  samples?: readonly Sample[];
  /** Oldest first, as they arrive. */
  events?: readonly FulcrumEvent[];
}

const noPools: Pick<Api, 'pools'> = { pools: () => Promise.reject(new Error('this test serves no pools')) };

export function liveStore({ api = noPools, status = 'connected', samples = [], events = [] }: LiveInput = {}): LiveStore {
  const store = new LiveStore(api);
  store.status(status);
  for (const s of samples) store.stats(s);
  for (const e of events) store.event(e);
  return store;
}

export function renderLive(ui: ReactElement, input: LiveInput | LiveStore = {}): RenderResult & { store: LiveStore } {
  const store = input instanceof LiveStore ? input : liveStore(input);
  return { ...render(<LiveContext value={store}>{ui}</LiveContext>), store };
}

/** One more statistics sample, as a tick of the stream delivers it (inside act: React renders it at once). */
export function tick(store: LiveStore, sample: Sample): void {
  act(() => store.stats(sample));
}

/** One control plane event, as the stream delivers it. */
export function deliver(store: LiveStore, e: FulcrumEvent): void {
  act(() => store.event(e));
}
