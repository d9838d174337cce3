import { useMemo } from 'react';
import { LiveBadge, StaleBanner } from '../components/States.tsx';
import { ReloadConfig } from '../features/config/ReloadConfig.tsx';
import { CachePage } from '../features/cache/CachePage.tsx';
import { Events } from '../features/events/Events.tsx';
import { Overview } from '../features/overview/Overview.tsx';
import { PoolsPage } from '../features/pools/PoolsPage.tsx';
import { Traffic } from '../features/traffic/Traffic.tsx';
import { createApi } from '../lib/api.ts';
import { storedToken, useToken } from '../lib/token.ts';
import { useLive } from '../lib/use-live.ts';
import { useRoute, VIEWS } from './use-route.ts';

const TITLES = { overview: 'Overview', pools: 'Pools & backends', traffic: 'Traffic', cache: 'Cache', events: 'Events' } as const;

export function App() {
  const [token, setToken] = useToken();
  const api = useMemo(() => createApi(storedToken), []);
  const streamUrl = useMemo(() => new URL('api/events/stream', document.baseURI).href, []);
  const live = useLive(streamUrl);
  const route = useRoute();

  return (
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
        <LiveBadge status={live.status} />
        <label className="token">
          Admin token
          <input type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} placeholder="for changes and purges" />
        </label>
        <ReloadConfig api={api} />
      </header>
      <main>
        <h2 className="view-title">{TITLES[route.view]}</h2>
        <StaleBanner status={live.status} />
        {route.view === 'overview' && <Overview samples={live.samples} />}
        {route.view === 'pools' && <PoolsPage api={api} samples={live.samples} only={route.detail} />}
        {route.view === 'traffic' && <Traffic samples={live.samples} />}
        {route.view === 'cache' && <CachePage api={api} samples={live.samples} />}
        {route.view === 'events' && <Events api={api} live={live.events} />}
      </main>
    </div>
  );
}
