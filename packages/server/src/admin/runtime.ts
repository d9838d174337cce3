/**
 * The runtime mutations of pools: a backend's weight, adding and removing backends, the balancing algorithm.
 * Each goes through ControlPlane.change, which validates the derived config with the schema and installs it like
 * a reload. None is written to the config file: a reload from disk replaces them with the file's view (except
 * self-registrations, carried over while they heartbeat: workers/registrations.ts), which every answer says with
 * `persisted: false`.
 */
import type http from 'node:http';
import { z } from 'zod';
import { ALGORITHMS, BackendConfigSchema } from '../config/schema.ts';
import { parseDuration } from '../config/units.ts';
import type { ControlPlane, RuntimeChange, RuntimeChangeResult } from '../workers/control-plane.ts';
import type { RegistrationResult } from '../workers/registrations.ts';
import { errorReply, readValid, type Reply } from './reply.ts';

const WeightBody = z.strictObject({ weight: BackendConfigSchema.shape.weight.unwrap() });
const AlgorithmBody = z.strictObject({ algorithm: z.enum(ALGORITHMS) });

/** A registration outlives a silent instance by at most this long. */
const MAX_TTL_MS = 3_600_000;

const RegistrationBody = z.strictObject({
  url: BackendConfigSchema.shape.url,
  weight: BackendConfigSchema.shape.weight,
  ttl: z
    .union([z.string(), z.number()])
    .default('15s')
    .refine((v) => {
      const ms = parseDuration(v) ?? 0;
      return ms >= 100 && ms <= MAX_TTL_MS;
    }, 'not a duration from 100ms to 1h (e.g. "15s")'),
});

function apply(control: ControlPlane, change: RuntimeChange, req: http.IncomingMessage, answer: Record<string, unknown>): Reply {
  return answerFor(control.change(change, req.socket.remoteAddress ?? 'unknown'), change, answer);
}

function answerFor(result: RuntimeChangeResult | RegistrationResult, change: RuntimeChange, answer: Record<string, unknown>): Reply {
  if (result.ok) return { status: 200, body: { ...answer, persisted: false }, did: { change } };
  switch (result.reason) {
    case 'no-pool':
      return errorReply(404, 'FUL_ERR_ADMIN_NOT_FOUND', `no pool ${change.pool}`);
    case 'no-backend':
      return errorReply(404, 'FUL_ERR_ADMIN_NOT_FOUND', `no backend ${'backend' in change ? change.backend : ''} in pool ${change.pool}`);
    case 'configured':
      return errorReply(409, 'FUL_ERR_ADMIN_CONFLICT', `pool ${change.pool} has this backend from its config file or the admin API: it cannot register`);
    case 'exists':
      return errorReply(409, 'FUL_ERR_ADMIN_CONFLICT', `pool ${change.pool} already has backend ${'backend' in change ? change.backend : ''}`);
    case 'invalid': {
      const first = result.problems[0];
      const message = `the change would make the config invalid${first ? `: ${first.path ? `${first.path}: ` : ''}${first.message}` : ''}`;
      return { ...errorReply(422, 'FUL_ERR_CONFIG_INVALID', message, result.problems), did: { change, rejected: true } };
    }
  }
}

/** POST /api/pools/:pool/backends/:id/weight {"weight": 1..1000}. */
export async function setWeight(control: ControlPlane, pool: string, backend: string, req: http.IncomingMessage): Promise<Reply> {
  const body = await readValid(req, WeightBody);
  if ('reply' in body) return body.reply;
  const { weight } = body.value;
  return apply(control, { kind: 'weight', pool, backend, weight }, req, { pool, backend, weight });
}

/** POST /api/pools/:pool/backends {"url", "weight"?, "max_connections"?, "drain"?}: validated as in the config file. */
export async function addBackend(control: ControlPlane, pool: string, req: http.IncomingMessage): Promise<Reply> {
  const body = await readValid(req, BackendConfigSchema);
  if ('reply' in body) return body.reply;
  const backend = new URL(body.value.url).origin;
  return apply(control, { kind: 'add-backend', pool, backend, config: body.value }, req, { pool, backend, weight: body.value.weight });
}

/** DELETE /api/pools/:pool/backends/:id: no new requests go to it; those in flight finish (its connections close when idle). */
export function removeBackend(control: ControlPlane, pool: string, backend: string, req: http.IncomingMessage): Reply {
  return apply(control, { kind: 'remove-backend', pool, backend }, req, { pool, backend, removed: true });
}

/** POST /api/pools/:pool/algorithm {"algorithm": one of ALGORITHMS}. */
export async function setAlgorithm(control: ControlPlane, pool: string, req: http.IncomingMessage): Promise<Reply> {
  const body = await readValid(req, AlgorithmBody);
  if ('reply' in body) return body.reply;
  const { algorithm } = body.value;
  return apply(control, { kind: 'algorithm', pool, algorithm }, req, { pool, algorithm });
}

/**
 * POST /api/pools/:pool/registrations {"url", "weight"?, "ttl"? (default 15s)}: a backend registers itself, or
 * renews its registration (a heartbeat); without one within the TTL it is removed.
 */
export async function register(control: ControlPlane, pool: string, req: http.IncomingMessage): Promise<Reply> {
  const input = await readValid(req, RegistrationBody);
  if ('reply' in input) return input.reply;
  const { url, weight, ttl } = input.value;
  const backend = new URL(url).origin;
  const ttlMs = parseDuration(ttl)!;
  const by = req.socket.remoteAddress ?? 'unknown';
  const config = { url, weight, drain: false };
  const change: RuntimeChange = { kind: 'add-backend', pool, backend, config };
  const result = control.registrations.heartbeat(pool, config, ttlMs, by);
  if (!result.ok) return answerFor(result, change, {});
  const body = { pool, backend, ttlMs, renewed: result.renewed, persisted: false };
  // A renewal is a heartbeat, not news: it is not logged as an admin mutation (the control plane logs a weight it changes).
  return result.renewed ? { status: 200, body } : { status: 200, body, did: { change } };
}

/** DELETE /api/pools/:pool/registrations/:id: a registered backend leaves now (its requests in flight finish). */
export function deregister(control: ControlPlane, pool: string, backend: string, req: http.IncomingMessage): Reply {
  const result = control.registrations.deregister(pool, backend, req.socket.remoteAddress ?? 'unknown');
  return answerFor(result, { kind: 'remove-backend', pool, backend }, { pool, backend, removed: true });
}
