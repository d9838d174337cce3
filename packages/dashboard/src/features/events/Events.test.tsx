import { describe, expect, test } from 'vitest';
import { screen, within } from '@testing-library/react';
import type { Api } from '../../lib/api.ts';
import type { FulcrumEvent } from '../../lib/types.ts';
import { renderLive } from '../../test-live.tsx';
import { Events } from './Events.tsx';

const past: FulcrumEvent[] = [
  { at: '2026-11-26T10:00:00.000Z', type: 'config-reloaded' },
  { at: '2026-11-26T10:00:05.000Z', type: 'backend-state', pool: 'web', backend: 'http://b1', from: 'healthy', to: 'ejected', reason: 'ejected' },
];

const api = { events: async () => past } as unknown as Api;

describe('Events', () => {
  test('lists the events before the page opened and the live ones, newest first, each once', async () => {
    const live: FulcrumEvent[] = [
      past[1]!, // also in the history: shown once
      { at: '2026-11-26T10:00:09.000Z', type: 'cache-purge', kind: 'tag', value: 'red' },
    ];
    renderLive(<Events api={api} />, { events: live });
    const list = await screen.findByRole('list', { name: 'Events' });
    await within(list).findByText('config-reloaded');
    const items = within(list).getAllByRole('listitem').map((li) => li.textContent ?? '');
    expect(items).toHaveLength(3);
    expect(items[0]).toContain('cache-purge');
    expect(items[0]).toContain('tag red');
    expect(items[1]).toContain('web http://b1: healthy → ejected (ejected)');
    expect(items[2]).toContain('config-reloaded');
  });

  test('says what will show there when nothing has happened yet', async () => {
    renderLive(<Events api={{ events: async () => [] } as unknown as Api} />);
    expect(await screen.findByText(/No events yet/)).toBeTruthy();
  });
});
