/** A top list of the cache (most hit URLs or tags): name and hits, largest first; or an empty state. */
import { Empty } from '../../components/States.tsx';
import type { CacheSnapshot } from '../../lib/types.ts';

/** One row of a top list, as GET /api/cache and the stats stream send it. */
export type TopEntry = CacheSnapshot['topUrls'][number];

export function TopTable({ title, column, entries }: { title: string; column: string; entries: readonly TopEntry[] | undefined }) {
  const rows = entries ?? [];
  return (
    <div className="card" role="region" aria-label={title}>
      <h2>
        {title} <small>approximate, by hits</small>
      </h2>
      {rows.length === 0 ? (
        <Empty>No cache hits yet.</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>{column}</th>
                <th>Hits</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e) => (
                <tr key={e.name}>
                  <td>{e.name}</td>
                  <td>{e.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
