import { describe, expect, test } from 'vitest';
import { screen } from '@testing-library/react';
import { counters, sample, snapshot } from '../../test-fixtures.ts';
import { renderLive, tick } from '../../test-live.tsx';
import { Traffic } from './Traffic.tsx';

describe('Traffic', () => {
  test('shows each backend\'s share of the requests between the first and the last snapshot of the window', () => {
    const samples = [
      sample(0, snapshot({ 'http://b0': counters(100), 'http://b1': counters(100) })),
      sample(1000, snapshot({ 'http://b0': counters(130), 'http://b1': counters(110) })),
    ];
    renderLive(<Traffic />, { samples });
    const bars = screen.getAllByRole('listitem').map((li) => li.textContent);
    expect(bars).toEqual(['http://b075.0 %', 'http://b125.0 %']);
  });

  test('waits for two snapshots, and says so when no request came in the window', () => {
    const one = [sample(0, snapshot({ 'http://b0': counters(5) }))];
    const { store } = renderLive(<Traffic />, { samples: one });
    expect(screen.getByText(/Waiting for two statistics snapshots/)).toBeTruthy();
    tick(store, sample(1000, snapshot({ 'http://b0': counters(5) })));
    expect(screen.getByText(/No requests in the last 5 seconds/)).toBeTruthy();
  });
});
