/** The response cache: hits, misses and stale answers over time, its size, its most hit URLs and tags, and a purge form. */
import { memo, useMemo, useState, type FormEvent } from 'react';
import { Chart } from '../../components/Chart.tsx';
import { Stat } from '../../components/Stat.tsx';
import { Empty } from '../../components/States.tsx';
import { TopTable } from './TopTable.tsx';
import type { Api, PurgeKind } from '../../lib/api.ts';
import { fmtBytes, fmtPct } from '../../lib/format.ts';
import { selectSamples, useLive } from '../../lib/live-context.ts';
import { rateSeries } from '../../lib/rates.ts';

const LOOKUPS = [
  { label: 'hit', color: '#16a34a' },
  { label: 'miss', color: '#dc2626' },
  { label: 'stale', color: '#ca8a04' },
];

export function CachePage({ api }: { api: Api }) {
  const samples = useLive(selectSamples);
  const series = useMemo(() => rateSeries(samples), [samples]);
  const data = useMemo(() => {
    const t = series.map((r) => r.t / 1000);
    return [t, series.map((r) => r.hits), series.map((r) => r.misses), series.map((r) => r.stale)];
  }, [series]);
  const cache = samples[samples.length - 1]?.stats.cache;
  return (
    <section aria-label="Cache">
      {cache === undefined ? (
        <Empty>No cache figures yet.</Empty>
      ) : (
        <>
          <div className="stats">
            <Stat label="hit ratio" value={fmtPct(series[series.length - 1]?.hitRatio)} />
            <Stat label="entries" value={String(cache.entries)} />
            <Stat label="size" value={fmtBytes(cache.bytes)} />
            <Stat label="evictions" value={String(cache.evictions)} />
            <Stat label="store errors" value={String(cache.storeErrors)} />
          </div>
          {series.length > 0 && (
            <div className="charts">
              <Chart title="Lookups per second" series={LOOKUPS} data={data} />
            </div>
          )}
          <div>
            <TopTable title="Top URLs" column="URL" entries={cache.topUrls} />
            <TopTable title="Top tags" column="Tag" entries={cache.topTags} />
          </div>
        </>
      )}
      <PurgeForm api={api} />
    </section>
  );
}

/** Its own state only: a statistics tick does not re-render it (memo). */
const PurgeForm = memo(function PurgeForm({ api }: { api: Api }) {
  const [kind, setKind] = useState<PurgeKind>('url');
  const [value, setValue] = useState('');
  const [result, setResult] = useState<{ ok: boolean; text: string } | undefined>();
  async function submit(e: FormEvent) {
    e.preventDefault();
    try {
      await api.purge(kind, value);
      setResult({ ok: true, text: `Purged ${kind} ${value}.` });
      setValue('');
    } catch (err) {
      setResult({ ok: false, text: `Purge failed: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
  return (
    <form className="card purge" onSubmit={(e) => void submit(e)}>
      <h2>Purge</h2>
      <select aria-label="purge by" value={kind} onChange={(e) => setKind(e.target.value as PurgeKind)}>
        <option value="url">URL</option>
        <option value="prefix">URL prefix</option>
        <option value="tag">tag</option>
      </select>
      <input aria-label="purge value" required value={value} onChange={(e) => setValue(e.target.value)} placeholder={kind === 'tag' ? 'products' : 'https://example.com/path'} />
      <button type="submit">Purge</button>
      {result && <p className={result.ok ? 'ok' : 'error'} role="status">{result.text}</p>}
    </form>
  );
});
