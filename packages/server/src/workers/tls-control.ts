/**
 * The control plane's part of TLS: it reads the listeners' certificate files (at start, on reload, and when a file
 * changes), holds what ACME obtained and the session ticket key, and sends the whole material to every proxy
 * process. A file that cannot be served is refused with its path; the certificates in force stay.
 */
import { unwatchFile, watchFile } from 'node:fs';
import type { ChallengeSet } from '../acme/answers.ts';
import { AcmeManager } from '../acme/manager.ts';
import { RedisAcmeShare } from '../acme/redis-share.ts';
import { systemRandom } from '../time.ts';
import { formatProblems, type ConfigProblem } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../observability/logger.ts';
import type { PemPair } from '../tls/certificates.ts';
import { certificatePaths, newTicketKeys, readCertificateFiles, type TlsMaterial } from '../tls/material.ts';

/** How the material reaches the proxies: in-process calls, or IPC to cluster workers. */
export interface TlsLink {
  applyTls(material: TlsMaterial): void;
  /** Resolves once every proxy serves `set`: only then may the CA be told to validate. */
  applyChallenges(set: ChallengeSet): Promise<void>;
}

/** How often watched certificate files are polled (polling survives a rename over the file, as certbot does). */
const WATCH_INTERVAL_MS = 500;

export class TlsControl {
  private readonly log: Logger;
  private current: TlsMaterial = { ticketKeys: newTicketKeys(), files: [], acme: [] };
  private link: TlsLink | undefined;
  private watched: string[] = [];
  private config: Config;
  /** Present when the config has an `acme` section (read at start). */
  readonly acme: AcmeManager | undefined;
  private readonly onFileChange = (curr: { mtimeMs: number }, prev: { mtimeMs: number }) => {
    if (curr.mtimeMs !== prev.mtimeMs) void this.reloadFiles(this.config);
  };

  constructor(config: Config, log: Logger) {
    this.config = config;
    this.log = log;
    // Instances that share a Redis cache share their orders too (one orders, the others adopt).
    const share =
      config.acme && config.cache.store === 'redis' ? new RedisAcmeShare(config.cache.redis.url, config.cache.redis.key_prefix, log) : undefined;
    this.acme =
      config.acme &&
      new AcmeManager(config.acme, {
        log,
        random: systemRandom,
        publish: (pairs) => this.setAcme(pairs),
        publishChallenges: (set) => this.applyChallenges(set),
        share,
      });
  }

  get material(): TlsMaterial {
    return this.current;
  }

  /**
   * Reads the files of the start config (throws with every problem when one cannot be served) and the ACME
   * certificates already on disk.
   */
  async init(): Promise<void> {
    const problems = await this.reloadFiles(this.config);
    if (problems.length > 0) throw new Error(`certificates refused:\n${formatProblems(problems)}`);
    this.watch(this.config);
    await this.acme?.loadStored();
  }

  /** Starts ACME orders and renewals: once the listeners are up, as the CA's validation reaches them. */
  startAcme(): void {
    this.acme?.start();
  }

  attach(link: TlsLink): void {
    this.link = link;
  }

  /** Re-reads the certificate files of `config`; on success they are in force everywhere. */
  async reloadFiles(config: Config): Promise<ConfigProblem[]> {
    const result = await readCertificateFiles(config);
    if (!result.ok) {
      this.log.error({ problems: result.problems }, `certificates refused, keeping those in force:\n${formatProblems(result.problems)}`);
      return result.problems;
    }
    const changed = JSON.stringify(result.files) !== JSON.stringify(this.current.files);
    this.config = config;
    this.watch(config);
    if (changed) {
      this.current = { ...this.current, files: result.files };
      this.link?.applyTls(this.current);
      if (this.watched.length > 0) this.log.info({ files: this.watched.length }, 'certificates loaded');
    }
    return [];
  }

  /** Certificates obtained (or renewed) by ACME. */
  setAcme(pairs: readonly PemPair[]): void {
    this.current = { ...this.current, acme: pairs };
    this.link?.applyTls(this.current);
  }

  applyChallenges(set: ChallengeSet): Promise<void> {
    return this.link?.applyChallenges(set) ?? Promise.resolve();
  }

  stop(): void {
    this.acme?.stop();
    for (const file of this.watched) unwatchFile(file, this.onFileChange);
    this.watched = [];
  }

  private watch(config: Config): void {
    const paths = certificatePaths(config);
    for (const file of this.watched) if (!paths.includes(file)) unwatchFile(file, this.onFileChange);
    for (const file of paths) if (!this.watched.includes(file)) watchFile(file, { interval: WATCH_INTERVAL_MS, persistent: false }, this.onFileChange);
    this.watched = paths;
  }
}
