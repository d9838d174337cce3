import { describe, expect, test, vi } from 'vitest';
import { screen } from '@testing-library/react';
import { counters, sample, snapshot } from '../../test-fixtures.ts';
import { renderLive } from '../../test-live.tsx';
import { Overview } from './Overview.tsx';

// uPlot draws on a canvas, which jsdom lacks; the charts are checked end to end in Chromium.
vi.mock('../../components/Chart.tsx', () => ({ Chart: ({ title }: { title: string }) => <figure>{title}</figure> }));

describe('Overview', () => {
  test('shows the rates between two stats snapshots: requests/s, error rate, latency, hit ratio, connections', () => {
    // Two seconds apart: 100 then 300 requests (200 new, 20 of them 5xx), all of the new ones in the 5–10 ms bucket.
    const first = snapshot({ a: counters(100, 0, [0, 0, 0, 100]) }, { hits: 10, misses: 10 });
    const second = snapshot({ a: counters(300, 20, [0, 0, 0, 300]) }, { hits: 40, misses: 20, stale: 0 }, 7);
    renderLive(<Overview />, { samples: [sample(1_000, first), sample(3_000, second)] });
    expect(screen.getByTestId('rps').textContent).toContain('100');
    expect(screen.getByTestId('requests-total').textContent).toContain('300');
    expect(screen.getByTestId('error-rate').textContent).toContain('10.0 %');
    expect(screen.getByTestId('p50').textContent).toContain('7.5 ms');
    expect(screen.getByTestId('hit-ratio').textContent).toContain('75.0 %');
    expect(screen.getByTestId('connections').textContent).toContain('7');
    expect(screen.getByText('Requests per second')).toBeTruthy();
  });

  test('says it is waiting before the first snapshot', () => {
    renderLive(<Overview />);
    expect(screen.getByText(/Waiting for the first statistics/)).toBeTruthy();
  });
});
