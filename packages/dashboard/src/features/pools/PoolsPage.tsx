/** Every pool's table (or one, for #/pools/<name>), with drains, undrains, weights and algorithm switches through
 * the admin API: runtime changes, which the server does not persist. */
import { useMemo, useState } from 'react';
import { Empty, ErrorNote, Loading } from '../../components/States.tsx';
import { ApiError, type Api } from '../../lib/api.ts';
import { backendShares } from '../../lib/rates.ts';
import type { Algorithm, Sample } from '../../lib/types.ts';
import { PoolTable, type Note } from './PoolTable.tsx';
import { usePools } from './use-pools.ts';

export interface PoolsPageProps {
  api: Api;
  samples: readonly Sample[];
  only?: string;
  confirm?: (message: string) => boolean;
}

export function PoolsPage({ api, samples, only, confirm = (m) => window.confirm(m) }: PoolsPageProps) {
  // Refetched on every new statistics sample (its time, not the count: the count stops at the history limit).
  const { pools, error, reload } = usePools(api, samples.at(-1)?.t);
  const shares = useMemo(() => backendShares(samples), [samples]);
  const [busy, setBusy] = useState<string | undefined>();
  const [note, setNote] = useState<Note | undefined>();

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
      reload();
    }
  }

  function act(action: 'drain' | 'undrain', pool: string, backend: string) {
    if (action === 'drain' && !confirm(`Drain ${backend} in pool ${pool}? It gets no new requests until undrained.`)) return;
    void change(pool, backend, action, async () => `${backend} is now ${(await api[action](pool, backend)).state}.`);
  }

  function setWeight(pool: string, backend: string, weight: number) {
    void change(pool, backend, 'Setting the weight', async () => `${backend} now has weight ${(await api.setWeight(pool, backend, weight)).weight}.`);
  }

  function setAlgorithm(pool: string, from: string, to: Algorithm) {
    if (to === from) return;
    const message =
      `Switch pool ${pool} from ${from} to ${to}? The balancer's state starts afresh: ` +
      'affinity is lost (clients pinned by sticky or consistent-hash may move to another backend).';
    if (!confirm(message)) return;
    void change(pool, pool, 'Switching the algorithm', async () => `Pool ${pool} now balances with ${(await api.setAlgorithm(pool, to)).algorithm}.`);
  }

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
        <PoolTable
          key={p.name}
          pool={p}
          shares={shares[p.name]}
          busy={busy}
          onDrain={(a, b) => act('drain', a, b)}
          onUndrain={(a, b) => act('undrain', a, b)}
          onWeight={setWeight}
          onAlgorithm={(a, to) => setAlgorithm(a, p.algorithm, to)}
          note={note?.pool === p.name ? note : undefined}
        />
      ))}
    </section>
  );
}
