/** Field builders shared by the config schema's files: units (units.ts) and addresses, each with its message. */
import { z } from 'zod';
import { parseDuration, parsePercent, parseSize } from './units.ts';

/**
 * The JSON Schema keyword naming a field's human unit (units.ts) for editors and the reference. Not `format`:
 * JSON Schema's `duration` format means ISO 8601 (PT2S), which these fields are not.
 */
export const UNIT = 'x-fulcrum-unit';

/** A duration in milliseconds; `positive` where 0 would make no sense (a timeout that always fires). */
export const duration = (fallback: string, positive = false) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `not a duration (use e.g. "500ms", "2s", "1m"): ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      if (positive && ms <= 0) {
        ctx.addIssue({ code: 'custom', message: 'must be more than 0' });
        return z.NEVER;
      }
      return ms;
    })
    .meta({ [UNIT]: 'duration', examples: [fallback] });

export const size = (fallback: string) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((v, ctx) => {
      const bytes = parseSize(v);
      if (bytes === undefined) {
        ctx.addIssue({ code: 'custom', message: `not a size (use e.g. "16kb", "10mb"): ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return bytes;
    })
    .meta({ [UNIT]: 'size', examples: [fallback] });

export const percent = (fallback: string) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((v, ctx) => {
      const fraction = parsePercent(v);
      if (fraction === undefined) {
        ctx.addIssue({ code: 'custom', message: `not a percentage (use e.g. "20%"): ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return fraction;
    })
    .meta({ [UNIT]: 'percent', examples: [fallback] });

export const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
/** A host:port to listen on. */
export const address = z
  .string()
  .refine((v) => HOST_PORT.test(v) && Number(HOST_PORT.exec(v)![1]) <= 65535, 'not a host:port address')
  .describe('Address to listen on, as host:port (IPv6 in brackets: [::1]:8080). Port 0 picks a free port.');

export const listenAddress = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((v) => HOST_PORT.test(v) && Number(HOST_PORT.exec(v)![1]) <= 65535, 'not a host:port address')
    .describe('Address to listen on, as host:port (IPv6 in brackets: [::1]:8080). Port 0 picks a free port.');
