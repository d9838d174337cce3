/** Structured JSON logs (pino) on stdout: one line per event, access lines tagged msg "request". */
import { pino, type Logger } from 'pino';
import type { Config } from '../config/schema.ts';

export type { Logger };

export function createLogger(level: Config['log']['level'], destination: pino.DestinationStream | number = 1): Logger {
  return pino(
    { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    typeof destination === 'number' ? pino.destination({ dest: destination, sync: false }) : destination,
  );
}
