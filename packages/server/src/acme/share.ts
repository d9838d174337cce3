/**
 * Sharing ACME orders between Fulcrum instances (several machines behind one name): a lock so that one instance
 * orders a name at a time, and the certificate published where the others find it instead of ordering their own.
 */
import type { PemPair } from '../tls/certificates.ts';

export interface AcmeShare {
  /** The certificate another instance published for `name`, if any. */
  fetch(name: string): Promise<PemPair | undefined>;
  /** Takes the order lock for `name` (it expires by itself should this instance die); false when another holds it. */
  lock(name: string): Promise<boolean>;
  unlock(name: string): Promise<void>;
  publish(name: string, pair: PemPair): Promise<void>;
  close(): Promise<void>;
}
