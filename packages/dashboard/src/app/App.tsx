import { useEffect, useMemo, useState } from 'react';
import { LiveBadge, StaleBanner } from '../components/States.tsx';
import { ReloadConfig } from '../features/config/ReloadConfig.tsx';
import { CachePage } from '../features/cache/CachePage.tsx';
import { Events } from '../features/events/Events.tsx';
import { LimitsPanel } from '../features/limits/LimitsPanel.tsx';
import { Overview } from '../features/overview/Overview.tsx';
import { PoolsPage } from '../features/pools/PoolsPage.tsx';
import { Traffic } from '../features/traffic/Traffic.tsx';
import { createApi } from '../lib/api.ts';
import { LiveStream } from '../lib/live.ts';
import { LiveContext, selectStatus } from '../lib/live-context.ts';
import { LiveStore } from '../lib/live-store.ts';
import { useSelector } from '../lib/store.ts';
import { storedToken, useToken } from '../lib/token.ts';
import { UpdateTiming } from '../lib/update-timing.ts';
import { useRoute, VIEWS } from './use-route.ts';

const TITLES = { overview: 'Overview', pools: 'Pools & backends', traffic: 'Traffic', cache: 'Cache', limits: 'Limits', events: 'Events' } as const;

/**
 * The shell: header, navigation and the current view. It holds the live store and opens the stream into it, but
 * reads only the stream's status: a statistics tick re-renders the views that show statistics, not the shell.
 */
export function App() {
  const [token, setToken] = useToken();
  const api = useMemo(() => createApi(storedToken), []);
  const [store] = useState(() => new LiveStore(api));
  useEffect(() => {
    const stream = new LiveStream(new URL('api/events/stream', document.baseURI).href, store);
    stream.open();
    return () => {
      stream.close();
      store.close();
    };
  }, [store]);
  const status = useSelector(store, selectStatus);
  const route = useRoute();

  return (
    <LiveContext value={store}>
      <div className="app">
        <header>
          <h1>Fulcrum</h1>
          <nav>
            {VIEWS.map((v) => (
              <a key={v} href={`#/${v}`} aria-current={route.view === v ? 'page' : undefined}>
                {TITLES[v]}
              </a>
            ))}
          </nav>
          <LiveBadge status={status} />
          <label className="token">
            Admin token
            <input type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} placeholder="for changes and purges" />
          </label>
          <ReloadConfig api={api} />
        </header>
        <main>
          <h2 className="view-title">{TITLES[route.view]}</h2>
          <StaleBanner status={status} />
          {route.view === 'overview' && <Overview />}
          {route.view === 'pools' && <PoolsPage api={api} only={route.detail} />}
          {route.view === 'traffic' && <Traffic />}
          {route.view === 'cache' && <CachePage api={api} />}
          {route.view === 'limits' && <LimitsPanel api={api} />}
          {route.view === 'events' && <Events api={api} />}
        </main>
      </div>
      <UpdateTiming store={store} />
    </LiveContext>
  );
}
