/**
 * A fast non-cryptographic string hash for the balancers (consistent-hash keys, Maglev offsets, sticky tokens).
 * Not for anything an attacker must not predict: it only has to spread keys evenly and be stable everywhere.
 */

/**
 * FNV-1a over the string's UTF-16 code units, then murmur3's finaliser. FNV-1a alone mixes its last
 * characters poorly into the high bits (`:8001` and `:8002` land close together); the finaliser avalanches every
 * input bit. The seed gives independent hashes of one string (Maglev needs two per backend). Returns a uint32.
 */
export function hash32(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/** murmur3's fmix32: a bijection on uint32 where each input bit flips each output bit with probability ~1/2. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
