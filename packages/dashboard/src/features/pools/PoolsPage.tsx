/** Every pool's table (or one, for #/pools/<name>), with drains and undrains through the admin API. */
import { useMemo, useState } from 'react';
import { Empty, ErrorNote, Loading } from '../../components/States.tsx';
import type { Api } from '../../lib/api.ts';
import { backendShares } from '../../lib/rates.ts';
import type { Sample } from '../../lib/types.ts';
import { PoolTable } from './PoolTable.tsx';
import { usePools } from './use-pools.ts';

export interface PoolsPageProps {
  api: Api;
  samples: readonly Sample[];
  only?: string;
  confirm?: (message: string) => boolean;
}

export function PoolsPage({ api, samples, only, confirm = (m) => window.confirm(m) }: PoolsPageProps) {
  const { pools, error, reload } = usePools(api, samples.length);
  const shares = useMemo(() => backendShares(samples), [samples]);
  const [busy, setBusy] = useState<string | undefined>();
  const [note, setNote] = useState<{ ok: boolean; text: string } | undefined>();

  async function act(action: 'drain' | 'undrain', pool: string, backend: string) {
    if (action === 'drain' && !confirm(`Drain ${backend} in pool ${pool}? It gets no new requests until undrained.`)) return;
    setBusy(backend);
    try {
      const r = await api[action](pool, backend);
      setNote({ ok: true, text: `${backend} is now ${r.state}.` });
    } catch (e) {
      setNote({ ok: false, text: `${action} failed: ${e instanceof Error ? e.message : String(e)}` });
    } finally {
      setBusy(undefined);
      reload();
    }
  }

  if (error !== undefined && pools === undefined) return <ErrorNote>Could not load the pools: {error}</ErrorNote>;
  if (pools === undefined) return <Loading what="pools" />;
  const shown = only === undefined ? pools : pools.filter((p) => p.name === only);
  return (
    <section aria-label="Pools">
      <p className="note">Drains and undrains are runtime changes: they are not written to the config file, and a reload applies the file again.</p>
      {note && <p className={note.ok ? 'ok' : 'error'} role="status">{note.text}</p>}
      {shown.length === 0 ? <Empty>{only === undefined ? 'No pools configured.' : `No pool named ${only}.`}</Empty> : null}
      {shown.map((p) => (
        <PoolTable key={p.name} pool={p} shares={shares[p.name]} busy={busy} onDrain={(a, b) => void act('drain', a, b)} onUndrain={(a, b) => void act('undrain', a, b)} />
      ))}
    </section>
  );
}
