/** What a mutating admin endpoint answers, and reading its JSON body. */
import type http from 'node:http';
import type { z } from 'zod';
import { formatPath } from '../config/load.ts';

/** A mutation's answer; `did` is what the log line records (absent for a malformed request, which did nothing). */
export interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly did?: Record<string, unknown>;
}

export function errorReply(status: number, code: string, message: string, details?: unknown): Reply {
  return { status, body: { error: { code, message, details } } };
}

export function readBody(req: http.IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > max) req.destroy(new Error('body too large'));
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

/**
 * The request body checked against `schema`: the parsed value, or the reply refusing it (400 when it is not JSON,
 * 422 with the problems by path when it does not fit).
 */
export async function readValid<T extends z.ZodType>(req: http.IncomingMessage, schema: T): Promise<{ value: z.output<T> } | { reply: Reply }> {
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req, 64 * 1024));
  } catch {
    return { reply: errorReply(400, 'FUL_ERR_ADMIN_BAD_REQUEST', 'the body must be JSON') };
  }
  const result = schema.safeParse(body);
  if (result.success) return { value: result.data };
  const problems = result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
  const first = problems[0]!;
  return { reply: errorReply(422, 'FUL_ERR_ADMIN_INVALID', `${first.path ? `${first.path}: ` : ''}${first.message}`, problems) };
}
