import { useEffect, useState } from 'react';

export const VIEWS = ['overview', 'pools', 'traffic', 'cache', 'limits', 'events'] as const;
export type View = (typeof VIEWS)[number];

export interface Route {
  view: View;
  /** The detail part, as in #/pools/<name>. */
  detail: string | undefined;
}

export function parseHash(hash: string): Route {
  const [view, ...rest] = hash.replace(/^#\/?/, '').split('/');
  const detail = rest.length > 0 && rest[0] !== '' ? decodeURIComponent(rest.join('/')) : undefined;
  return { view: (VIEWS as readonly string[]).includes(view ?? '') ? (view as View) : 'overview', detail };
}

/** Hash routes (#/overview, #/pools/web …): the admin listener only serves index.html at /. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
