/**
 * Maglev's lookup table (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load Balancer",
 * NSDI 2016, §3.4), weighted as Envoy does it. A key is looked up as `table[hash(key) % size]`.
 */
import { hash32 } from './hash.ts';

/** A prime, as Maglev needs; the paper advises well over 100 slots per backend, so this serves ~650 backends. */
export const MAGLEV_TABLE_SIZE = 65537;

const OFFSET_SEED = 0x9e3779b9;
const SKIP_SEED = 0x7f4a7c15;
const EMPTY = 0xffffffff;

/**
 * Maglev's population (Pseudocode 1): each backend in turn fills its next preferred free slot, its preferences
 * being the permutation `(offset + j × skip) mod size` drawn from two hashes of its id. Weighted as in Envoy:
 * a backend of a third of the largest weight takes a turn only every third round. Returns, for each slot, an
 * index into `ids`; the table depends only on the ids, their order and their weights, so every worker builds
 * the same one. `size` must be a prime larger than the number of ids.
 */
export function buildMaglevTable(ids: readonly string[], weights: ArrayLike<number>, size = MAGLEV_TABLE_SIZE): Uint32Array {
  const n = ids.length;
  const table = new Uint32Array(n === 0 ? 0 : size).fill(EMPTY);
  if (n === 0) return table;
  const offset = new Float64Array(n);
  const skip = new Float64Array(n);
  const next = new Float64Array(n);
  const relative = new Float64Array(n);
  const turns = new Float64Array(n);
  let maxWeight = 0;
  for (let i = 0; i < n; i++) maxWeight = Math.max(maxWeight, weights[i]!);
  for (let i = 0; i < n; i++) {
    offset[i] = hash32(ids[i]!, OFFSET_SEED) % size;
    skip[i] = (hash32(ids[i]!, SKIP_SEED) % (size - 1)) + 1;
    relative[i] = weights[i]! / maxWeight;
  }
  let filled = 0;
  for (let round = 1; filled < size; round++) {
    for (let i = 0; i < n && filled < size; i++) {
      if (round * relative[i]! < turns[i]!) continue;
      turns[i]! += 1;
      // Products stay below size² < 2^53: exact in a double.
      let slot = (offset[i]! + next[i]! * skip[i]!) % size;
      while (table[slot] !== EMPTY) {
        next[i]! += 1;
        slot = (offset[i]! + next[i]! * skip[i]!) % size;
      }
      table[slot] = i;
      next[i]! += 1;
      filled++;
    }
  }
  return table;
}
