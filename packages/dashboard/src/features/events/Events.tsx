/** The control plane's events, newest first: those before the page opened (GET /api/events), then live ones. */
import { useEffect, useMemo, useState } from 'react';
import { Empty } from '../../components/States.tsx';
import type { Api } from '../../lib/api.ts';
import { selectEvents, useLive } from '../../lib/live-context.ts';
import type { FulcrumEvent } from '../../lib/types.ts';

function describe(e: FulcrumEvent): string {
  switch (e.type) {
    case 'backend-state':
      return `${e.pool} ${e.backend}: ${e.from} → ${e.to} (${e.reason})`;
    case 'cache-purge':
      return `${e.kind} ${e.value}`;
    default: {
      const { at: _at, type: _type, ...rest } = e;
      return Object.keys(rest).length === 0 ? '' : JSON.stringify(rest);
    }
  }
}

export function Events({ api }: { api: Api }) {
  const live = useLive(selectEvents);
  const [past, setPast] = useState<FulcrumEvent[]>([]);
  useEffect(() => {
    const ctl = new AbortController();
    api.events(ctl.signal).then((e) => setPast([...e].reverse()), () => undefined);
    return () => ctl.abort();
  }, [api]);
  const all = useMemo(() => {
    const seen = new Set(live.map((e) => JSON.stringify(e)));
    return [...live, ...past.filter((e) => !seen.has(JSON.stringify(e)))];
  }, [live, past]);
  if (all.length === 0) return <Empty>No events yet: backend state changes, reloads and purges show here as they happen.</Empty>;
  return (
    <ol className="events" aria-label="Events">
      {all.map((e, i) => (
        <li key={`${e.at}-${i}`}>
          <time className="mono">{new Date(e.at).toLocaleTimeString()}</time> <strong>{e.type}</strong> <span>{describe(e)}</span>
        </li>
      ))}
    </ol>
  );
}
