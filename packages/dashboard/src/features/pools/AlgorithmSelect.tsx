/** A pool's balancing algorithm: a select of the seven; choosing one asks the page to switch (after confirmation). */
import { ALGORITHMS, type Algorithm } from '../../lib/types.ts';

export interface AlgorithmSelectProps {
  pool: string;
  algorithm: string;
  busy: boolean;
  onSwitch(algorithm: Algorithm): void;
}

export function AlgorithmSelect({ pool, algorithm, busy, onSwitch }: AlgorithmSelectProps) {
  return (
    <label className="algorithm">
      Algorithm{' '}
      {/* Controlled by the server's value: a switch that is not confirmed, or fails, leaves the select as it was. */}
      <select value={algorithm} disabled={busy} onChange={(e) => onSwitch(e.target.value as Algorithm)} aria-label={`Algorithm of pool ${pool}`}>
        {ALGORITHMS.map((a) => (
          <option key={a} value={a}>
            {a}
          </option>
        ))}
        {!(ALGORITHMS as readonly string[]).includes(algorithm) && <option value={algorithm}>{algorithm}</option>}
      </select>
    </label>
  );
}
