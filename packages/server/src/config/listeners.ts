/**
 * The listeners' part of the config: plain or TLS listeners, the HTTPS redirect, and automatic certificates
 * (ACME, RFC 8555). Read at start, like `listen`; certificate files are re-read on reload and on change.
 */
import { z } from 'zod';
import { address, duration, percent } from './fields.ts';

/** Mozilla's "intermediate" TLS 1.2 suites (forward secret AEADs only); TLS 1.3 suites are OpenSSL's, all good. */
export const MOZILLA_INTERMEDIATE_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

const CertificateFilesSchema = z
  .strictObject({
    cert: z.string().min(1).describe('PEM file: the certificate, then its intermediates.'),
    key: z.string().min(1).describe('PEM file: its private key (unencrypted).'),
  })
  .describe('One certificate; the names it serves are those of its subjectAltName.');

export const TlsSchema = z
  .strictObject({
    certificates: z
      .array(CertificateFilesSchema)
      .default([])
      .describe(
        'Certificates from files, picked by the name the client asks for (SNI: exact names, then wildcards). The first one answers clients that ask for no name or an unknown one. Re-read on reload and when a file changes.',
      ),
    acme: z.boolean().default(false).describe('Also serve the certificates `acme` obtains (and answer its TLS-ALPN-01 challenges here).'),
    min_version: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2').describe('Oldest protocol version accepted.'),
    ciphers: z
      .string()
      .default(MOZILLA_INTERMEDIATE_CIPHERS)
      .describe("OpenSSL cipher list for TLS 1.2 (Mozilla's intermediate list by default); TLS 1.3 uses OpenSSL's suites."),
    session_tickets: z
      .boolean()
      .default(true)
      .describe('Session resumption by tickets; the ticket key is shared by all worker processes.'),
  })
  .describe('TLS on this listener.');

export const ListenerSchema = z
  .strictObject({
    listen: address,
    tls: TlsSchema.optional(),
    redirect_https: z
      .union([z.boolean(), z.number().int().min(1).max(65535)])
      .default(false)
      .describe(
        'Plain listeners only: answer every request with 308 to https:// on the same host and target (ACME HTTP-01 challenges excepted). A number is the HTTPS port to name; true names the first TLS listener\'s (none when 443).',
      ),
  })
  .describe('One listener.');

const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export const AcmeSchema = z
  .strictObject({
    directory: z
      .url()
      .default('https://acme-v02.api.letsencrypt.org/directory')
      .describe("The ACME server's directory URL (Let's Encrypt by default; its staging one for trials)."),
    email: z.string().optional().describe('Contact address given to the CA (expiry warnings).'),
    terms_of_service_agreed: z.literal(true).describe("Must be true: you agree to the CA's terms of service."),
    domains: z
      .array(z.string().regex(HOSTNAME, 'not a host name (wildcards need DNS-01, which Fulcrum does not do)'))
      .min(1)
      .describe('Names to get a certificate for, one certificate each.'),
    storage: z.string().min(1).describe('Directory for the account key and certificates (keys written with mode 0600).'),
    challenges: z
      .array(z.enum(['http-01', 'tls-alpn-01']))
      .min(1)
      .default(['http-01', 'tls-alpn-01'])
      .describe('Challenge types, in order of preference: http-01 is answered on plain listeners, tls-alpn-01 on TLS ones with `tls.acme`.'),
    ca_certificates: z
      .string()
      .optional()
      .describe("PEM file of CAs to trust for the directory's own HTTPS, for a private ACME server (Pebble, step-ca)."),
    renew_at: percent('67%').describe('Renew once this share of a certificate\'s lifetime has passed.'),
    retry: z
      .strictObject({
        min: duration('1m', true).describe('First wait after a failed order.'),
        max: duration('6h', true).describe('Longest wait; each failure doubles it up to this, jittered.'),
      })
      .prefault({})
      .describe('Backoff after a failed order.'),
  })
  .describe('Automatic certificates from an ACME CA (RFC 8555), with HTTP-01 or TLS-ALPN-01 challenges.');

export type ListenerConfig = z.output<typeof ListenerSchema>;
export type TlsConfig = z.output<typeof TlsSchema>;
export type AcmeConfig = z.output<typeof AcmeSchema>;

export const DEFAULT_LISTEN = '127.0.0.1:8080';

interface ListenersInput {
  readonly listen?: unknown;
  readonly listeners?: unknown;
  readonly acme?: unknown;
}

/** Cross-field rules of listeners and ACME, each problem named by its path. Guards: other fields may have failed. */
export function checkListeners(config: ListenersInput, ctx: z.RefinementCtx): void {
  const listeners = Array.isArray(config.listeners) ? (config.listeners as Partial<ListenerConfig>[]) : undefined;
  if (listeners !== undefined && config.listen !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['listen'], message: 'give either listen or listeners, not both' });
  }
  if (listeners === undefined) {
    if (config.acme !== undefined) ctx.addIssue({ code: 'custom', path: ['acme'], message: 'acme needs a TLS listener with tls.acme: true (see listeners)' });
    return;
  }
  listeners.forEach((l, i) => {
    if (l?.tls !== undefined && l.redirect_https !== false && l.redirect_https !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['listeners', i, 'redirect_https'], message: 'only a plain listener redirects to HTTPS' });
    }
    if (l?.tls !== undefined && Array.isArray(l.tls.certificates) && l.tls.certificates.length === 0 && !l.tls.acme) {
      ctx.addIssue({ code: 'custom', path: ['listeners', i, 'tls'], message: 'a TLS listener needs certificates, or acme: true' });
    }
    if (l?.tls?.acme === true && config.acme === undefined) {
      ctx.addIssue({ code: 'custom', path: ['listeners', i, 'tls', 'acme'], message: 'there is no acme section to take certificates from' });
    }
  });
  const acme = config.acme as Partial<AcmeConfig> | undefined;
  if (acme !== undefined && !listeners.some((l) => l?.tls?.acme === true)) {
    ctx.addIssue({ code: 'custom', path: ['acme'], message: 'no TLS listener serves these certificates: set tls.acme: true on one' });
  }
  if (acme !== undefined && Array.isArray(acme.challenges)) {
    const servable = acme.challenges.some((c) =>
      c === 'http-01' ? listeners.some((l) => l?.tls === undefined) : listeners.some((l) => l?.tls?.acme === true),
    );
    if (!servable) {
      ctx.addIssue({
        code: 'custom',
        path: ['acme', 'challenges'],
        message: 'no listener can answer these: http-01 needs a plain listener, tls-alpn-01 a TLS listener with acme: true',
      });
    }
  }
}

/** The listeners of a config: `listeners`, or the one plain listener `listen` (127.0.0.1:8080 by default). */
export function listenersOf(config: { readonly listen?: string | undefined; readonly listeners?: readonly ListenerConfig[] | undefined }): readonly ListenerConfig[] {
  return config.listeners ?? [{ listen: config.listen ?? DEFAULT_LISTEN, redirect_https: false }];
}
