/**
 * Automatic certificates (RFC 8555) through acme-client: one certificate per configured name, obtained when there
 * is none on disk, renewed once `renew_at` of its lifetime has passed, retried with jittered backoff when an order
 * fails. Runs in one process only (the control plane): it publishes the challenge answers to every proxy and
 * waits until they serve them before the CA is told to validate, then publishes the certificates.
 */
import https from 'node:https';
import tls from 'node:tls';
import { readFile } from 'node:fs/promises';
import { axios as acmeAxios, Client, crypto as acmeCrypto, setLogger, type Authorization } from 'acme-client';
import type { AcmeConfig } from '../config/listeners.ts';
import type { Logger } from '../observability/logger.ts';
import type { Random } from '../time.ts';
import type { PemPair } from '../tls/certificates.ts';
import type { ChallengeSet } from './answers.ts';
import { nextCheckIn, renewalDue, retryDelay } from './schedule.ts';
import { AcmeStorage, withValidity, type StoredCertificate } from './storage.ts';
import type { AcmeShare } from './share.ts';

/** Each request to the CA; acme-client retries 5xx and 429 itself. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface AcmeDeps {
  readonly log: Logger;
  readonly random: Random;
  /** Every certificate held, each time one is obtained or found. */
  publish(pairs: readonly PemPair[]): void;
  /** The challenge answers in flight; resolves once every proxy serves them. */
  publishChallenges(set: ChallengeSet): Promise<void>;
  /** Other instances sharing the orders (Redis), when there are any. */
  readonly share?: AcmeShare | undefined;
}

/** obtained: ordered here; from-peer: adopted from another instance; busy: another instance is ordering it. */
export type OrderOutcome = 'obtained' | 'from-peer' | 'busy' | 'failed';

export class AcmeManager {
  private readonly config: AcmeConfig;
  private readonly deps: AcmeDeps;
  private readonly storage: AcmeStorage;
  private readonly certificates = new Map<string, StoredCertificate>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly http = new Map<string, string>();
  private readonly alpn = new Map<string, PemPair>();
  private client: Promise<Client> | undefined;
  /** Orders run one after another: a CA rate-limits, and one failing name must not hold the others' timers. */
  private queue: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(config: AcmeConfig, deps: AcmeDeps) {
    this.config = config;
    this.deps = deps;
    this.storage = new AcmeStorage(config.storage);
    setLogger((message: string) => deps.log.debug({ acme: message }, 'acme-client'));
  }

  /** Loads the certificates already on disk that are still valid, and serves them at once. */
  async loadStored(): Promise<void> {
    for (const name of this.config.domains) {
      const stored = await this.storage.readCertificate(name);
      if (stored !== undefined && stored.notAfter > Date.now()) this.certificates.set(name, stored);
    }
    if (this.certificates.size > 0) this.deps.publish(this.pairs());
  }

  /** Starts obtaining and renewing; call once the listeners answer challenges. */
  start(): void {
    for (const name of this.config.domains) this.schedule(name, this.dueAt(name));
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    void this.deps.share?.close();
  }

  /** The certificate held for a name (for tests and the admin view). */
  certificate(name: string): StoredCertificate | undefined {
    return this.certificates.get(name);
  }

  /** Orders a certificate for `name` now (queued behind any order running). */
  renew(name: string): Promise<OrderOutcome> {
    const run = this.queue.then(() => this.obtain(name));
    this.queue = run.catch(() => {});
    return run;
  }

  private dueAt(name: string): number {
    const held = this.certificates.get(name);
    return held === undefined ? Date.now() : renewalDue(held.notBefore, held.notAfter, this.config.renew_at);
  }

  private schedule(name: string, at: number): void {
    if (this.stopped) return;
    clearTimeout(this.timers.get(name));
    const timer = setTimeout(() => void this.check(name, at), nextCheckIn(at, Date.now()));
    timer.unref();
    this.timers.set(name, timer);
  }

  private async check(name: string, at: number): Promise<void> {
    if (Date.now() < at) return this.schedule(name, at); // a long wait, checked again in steps
    const outcome = await this.renew(name);
    if (this.stopped) return;
    // Look again for the other instance's certificate after a short wait: not a failure of this one's.
    if (outcome === 'busy') return this.schedule(name, Date.now() + retryDelay(1, this.config.retry.min, this.config.retry.max, this.deps.random));
    if (outcome !== 'failed') {
      this.failures.delete(name);
      return this.schedule(name, this.dueAt(name));
    }
    const failures = (this.failures.get(name) ?? 0) + 1;
    this.failures.set(name, failures);
    const wait = retryDelay(failures, this.config.retry.min, this.config.retry.max, this.deps.random);
    this.deps.log.warn({ domain: name, failures, retryInMs: Math.round(wait) }, 'acme: certificate order failed; retrying later');
    this.schedule(name, Date.now() + wait);
  }

  private async obtain(name: string): Promise<OrderOutcome> {
    const share = this.deps.share;
    try {
      if (share !== undefined) {
        // Another instance may have renewed it already, or be ordering it now.
        const peer = await share.fetch(name);
        if (peer !== undefined && this.fresher(name, peer)) return this.adopt(name, peer, 'from-peer');
        if (!(await share.lock(name))) {
          this.deps.log.info({ domain: name }, 'acme: another instance is ordering this certificate');
          return 'busy';
        }
      }
      try {
        const pair = await this.order(name);
        await share?.publish(name, pair);
        return await this.adopt(name, pair, 'obtained');
      } finally {
        await share?.unlock(name);
      }
    } catch (err) {
      this.deps.log.error({ err, domain: name }, 'acme: order failed');
      return 'failed';
    }
  }

  private fresher(name: string, pair: PemPair): boolean {
    const candidate = withValidity(pair);
    const held = this.certificates.get(name);
    return candidate !== undefined && candidate.notAfter > (held?.notAfter ?? 0) && Date.now() < renewalDue(candidate.notBefore, candidate.notAfter, this.config.renew_at);
  }

  private async adopt(name: string, pair: PemPair, outcome: OrderOutcome): Promise<OrderOutcome> {
    const stored = withValidity(pair);
    if (stored === undefined) throw new Error('the CA sent something that is not a certificate');
    await this.storage.writeCertificate(name, pair);
    this.certificates.set(name, stored);
    this.deps.publish(this.pairs());
    this.deps.log.info({ domain: name, notAfter: new Date(stored.notAfter).toISOString(), source: outcome }, 'acme: certificate in service');
    return outcome;
  }

  /** One order (RFC 8555 §7.4): a fresh key, a CSR, the challenges answered, the certificate downloaded. */
  private async order(name: string): Promise<PemPair> {
    const client = await this.clientOnce();
    const [key, csr] = await acmeCrypto.createCsr({ commonName: name, altNames: [name] }, await acmeCrypto.createPrivateEcdsaKey());
    this.deps.log.info({ domain: name, directory: this.config.directory }, 'acme: ordering a certificate');
    const cert = await client.auto({
      csr,
      email: this.config.email,
      termsOfServiceAgreed: this.config.terms_of_service_agreed,
      challengePriority: [...this.config.challenges],
      // acme-client's own check fetches the challenge from this machine, which may not reach itself by its public
      // name (NAT, split DNS): the CA's validation is the one that counts.
      skipChallengeVerification: true,
      challengeCreateFn: (authz, challenge, keyAuthorization) => this.answer(authz, challenge, keyAuthorization),
      challengeRemoveFn: (authz, challenge) => this.withdraw(authz, challenge),
    });
    return { cert, key: key.toString() };
  }

  private async answer(authz: Authorization, challenge: { type: string; token: string }, keyAuthorization: string): Promise<void> {
    if (challenge.type === 'http-01') this.http.set(challenge.token, keyAuthorization);
    else if (challenge.type === 'tls-alpn-01') {
      const [key, cert] = await acmeCrypto.createAlpnCertificate(authz, keyAuthorization);
      this.alpn.set(authz.identifier.value.toLowerCase(), { cert: cert.toString(), key: key.toString() });
    } else throw new Error(`challenge type ${challenge.type} is not supported`);
    await this.deps.publishChallenges(this.challengeSet());
  }

  private async withdraw(authz: Authorization, challenge: { type: string; token: string }): Promise<void> {
    this.http.delete(challenge.token);
    if (challenge.type === 'tls-alpn-01') this.alpn.delete(authz.identifier.value.toLowerCase());
    await this.deps.publishChallenges(this.challengeSet());
  }

  private challengeSet(): ChallengeSet {
    return { http: Object.fromEntries(this.http), alpn: Object.fromEntries(this.alpn) };
  }

  private pairs(): PemPair[] {
    return this.config.domains.flatMap((name) => {
      const held = this.certificates.get(name);
      return held === undefined ? [] : [{ cert: held.cert, key: held.key }];
    });
  }

  /** The account: its key from disk, or a new one kept there; the CA finds the account by its key. */
  private clientOnce(): Promise<Client> {
    this.client ??= (async () => {
      await this.trustDirectory();
      let accountKey = await this.storage.readAccountKey();
      if (accountKey === undefined) {
        accountKey = (await acmeCrypto.createPrivateEcdsaKey()).toString();
        await this.storage.writeAccountKey(accountKey);
      }
      // Polls for the order's state from 1 s, doubling to 10 s: validation usually takes a few seconds.
      return new Client({ directoryUrl: this.config.directory, accountKey, backoffMin: 1000, backoffMax: 10_000 });
    })();
    this.client.catch(() => (this.client = undefined)); // a failure (disk, CA file) is tried again next time
    return this.client;
  }

  /** acme-client has one HTTP client per process: the directory's extra CA and the timeout are set on it. */
  private async trustDirectory(): Promise<void> {
    acmeAxios.defaults.timeout = REQUEST_TIMEOUT_MS;
    if (this.config.ca_certificates === undefined) return;
    const extra = await readFile(this.config.ca_certificates, 'utf8');
    acmeAxios.defaults.httpsAgent = new https.Agent({ ca: [...tls.rootCertificates, extra], keepAlive: true });
  }
}
