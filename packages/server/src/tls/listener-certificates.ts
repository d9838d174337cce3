/**
 * One TLS listener's certificates in a proxy process: the set in force (swapped whole when the material changes)
 * and the ACME challenge answers, read by the terminator at each handshake.
 */
import type { SecureContext } from 'node:tls';
import type { ChallengeAnswers } from '../acme/answers.ts';
import type { TlsConfig } from '../config/listeners.ts';
import { CertificateSet } from './certificates.ts';
import type { TlsMaterial } from './material.ts';
import type { TlsSource } from './terminator.ts';

export class ListenerCertificates implements TlsSource {
  private readonly index: number;
  private readonly config: TlsConfig;
  private readonly challenges: ChallengeAnswers;
  private set: CertificateSet | undefined;

  constructor(index: number, config: TlsConfig, challenges: ChallengeAnswers) {
    this.index = index;
    this.config = config;
    this.challenges = challenges;
  }

  /** Builds the new set first: until it is whole, handshakes use the old one. */
  apply(material: TlsMaterial): void {
    const pairs = [...(material.files[this.index] ?? []), ...(this.config.acme ? material.acme : [])];
    this.set = new CertificateSet(pairs, {
      minVersion: this.config.min_version,
      ciphers: this.config.ciphers,
      sessionTickets: this.config.session_tickets,
      ticketKeys: Buffer.from(material.ticketKeys, 'base64'),
    });
  }

  select(servername: string | undefined): SecureContext | undefined {
    return this.set?.select(servername);
  }

  challenge(servername: string): SecureContext | undefined {
    return this.config.acme ? this.challenges.alpnContext(servername) : undefined;
  }
}
