/** Every pool's table (or one, for #/pools/<name>), with drains, undrains, weights and algorithm switches through
 * the admin API: runtime changes, which the server does not persist. */
import { useMemo, useState } from 'react';
import { Empty, ErrorNote, Loading } from '../../components/States.tsx';
import { ApiError, type Api } from '../../lib/api.ts';
import { useLiveStore } from '../../lib/live-context.ts';
import type { PoolActions } from './BackendRow.tsx';
import { PoolTable, type Note } from './PoolTable.tsx';
import { usePools } from './use-pools.ts';

export interface PoolsPageProps {
  api: Api;
  only?: string | undefined;
  confirm?: (message: string) => boolean;
}

const askTheBrowser = (message: string) => window.confirm(message);

export function PoolsPage({ api, only, confirm = askTheBrowser }: PoolsPageProps) {
  // Fetched when shown, then again only when an event says the pools changed: the figures that move with each
  // tick are read from the live stream by each row.
  const { views: pools, error } = usePools();
  const store = useLiveStore();
  const [busy, setBusy] = useState<string | undefined>();
  const [note, setNote] = useState<Note | undefined>();

  const actions = useMemo((): PoolActions => {
    /** Runs one change with `key` (a backend id or the pool name) busy, and notes its outcome in the pool's card. */
    async function change(pool: string, key: string, what: string, run: () => Promise<string>) {
      setBusy(key);
      try {
        setNote({ pool, ok: true, text: await run() });
      } catch (e) {
        const details = e instanceof ApiError ? e.details.map((d) => `${d.path}: ${d.message}`) : [];
        setNote({ pool, ok: false, text: `${what} failed: ${e instanceof Error ? e.message : String(e)}`, details });
      } finally {
        setBusy(undefined);
        // The event that the change causes would refetch too; this does not wait for it.
        store.refreshPools();
      }
    }
    const drainOrUndrain = (action: 'drain' | 'undrain') => (pool: string, backend: string) => {
      if (action === 'drain' && !confirm(`Drain ${backend} in pool ${pool}? It gets no new requests until undrained.`)) return;
      void change(pool, backend, action, async () => `${backend} is now ${(await api[action](pool, backend)).state}.`);
    };
    return {
      drain: drainOrUndrain('drain'),
      undrain: drainOrUndrain('undrain'),
      setWeight(pool, backend, weight) {
        void change(pool, backend, 'Setting the weight', async () => `${backend} now has weight ${(await api.setWeight(pool, backend, weight)).weight}.`);
      },
      setAlgorithm(pool, from, to) {
        if (to === from) return;
        const message =
          `Switch pool ${pool} from ${from} to ${to}? The balancer's state starts afresh: ` +
          'affinity is lost (clients pinned by sticky or consistent-hash may move to another backend).';
        if (!confirm(message)) return;
        void change(pool, pool, 'Switching the algorithm', async () => `Pool ${pool} now balances with ${(await api.setAlgorithm(pool, to)).algorithm}.`);
      },
    };
  }, [api, confirm, store]);

  if (error !== undefined && pools === undefined) return <ErrorNote>Could not load the pools: {error}</ErrorNote>;
  if (pools === undefined) return <Loading what="pools" />;
  const shown = only === undefined ? pools : pools.filter((p) => p.name === only);
  return (
    <section aria-label="Pools">
      <p className="note">
        Drains, undrains, weights and algorithm switches are runtime changes: they are not written to the config file, and a reload applies
        the file again.
      </p>
      {shown.length === 0 ? <Empty>{only === undefined ? 'No pools configured.' : `No pool named ${only}.`}</Empty> : null}
      {shown.map((p) => (
        <PoolTable key={p.name} pool={p} busy={busy} actions={actions} note={note?.pool === p.name ? note : undefined} />
      ))}
    </section>
  );
}
