import { describe, expect, test, vi } from 'vitest';
import { screen, within } from '@testing-library/react';
import type { Api } from '../../lib/api.ts';
import { counters, sample, snapshot } from '../../test-fixtures.ts';
import { renderLive } from '../../test-live.tsx';
import { CachePage } from './CachePage.tsx';
import type { CacheSnapshot } from '../../lib/types.ts';

// uPlot draws on a canvas, which jsdom lacks; the charts are checked end to end in Chromium.
vi.mock('../../components/Chart.tsx', () => ({ Chart: ({ title }: { title: string }) => <figure>{title}</figure> }));

const api = { purge: vi.fn() } as unknown as Api;

const rowsOf = (region: string) =>
  within(screen.getByRole('region', { name: region }))
    .getAllByRole('row')
    .slice(1)
    .map((row) => within(row).getAllByRole('cell').map((cell) => cell.textContent));

describe('CachePage', () => {
  test('shows the most hit URLs and tags of the latest snapshot, largest first, with their hits', () => {
    const cache: Partial<CacheSnapshot> = {
      hits: 7,
      topUrls: [{ name: 'example.com/a', count: 4 }, { name: 'example.com/b', count: 2 }],
      topTags: [{ name: 'blue', count: 6 }, { name: 'red', count: 4 }],
    };
    renderLive(<CachePage api={api} />, { samples: [sample(1_000, snapshot({ a: counters(10) }, cache))] });
    expect(rowsOf('Top URLs')).toEqual([['example.com/a', '4'], ['example.com/b', '2']]);
    expect(rowsOf('Top tags')).toEqual([['blue', '6'], ['red', '4']]);
  });

  test('says there are no hits yet when the top lists are empty or missing', () => {
    // topTags missing: a server from before the top lists.
    const cache: Partial<CacheSnapshot> = { topUrls: [] };
    renderLive(<CachePage api={api} />, { samples: [sample(1_000, snapshot({ a: counters(1) }, cache))] });
    for (const region of ['Top URLs', 'Top tags']) {
      expect(within(screen.getByRole('region', { name: region })).getByText('No cache hits yet.')).toBeTruthy();
      expect(within(screen.getByRole('region', { name: region })).queryByRole('table')).toBeNull();
    }
  });
});
