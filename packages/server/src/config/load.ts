/** Reading a config file: YAML (or JSON, which is YAML), environment references, then the schema. */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigSchema, type Config } from './schema.ts';

export interface ConfigProblem {
  /** Where, as users write it: `pools.api.backends[1].url`; empty for the whole file. */
  readonly path: string;
  readonly message: string;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: ConfigProblem[] };

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('\n');
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

const WHOLE_ENV_REF = new RegExp(`^${ENV_REF.source}$`);

/** Where a string value was one whole reference (`workers: ${WORKERS}`): it may stand for a number or a boolean. */
type WholeRefs = Array<readonly PropertyKey[]>;

/** Replaces `${NAME}` and `${NAME:-default}` in every string value, so secrets stay out of the file. */
function resolveEnv(value: unknown, env: NodeJS.ProcessEnv, path: PropertyKey[], problems: ConfigProblem[], whole: WholeRefs): unknown {
  if (typeof value === 'string') {
    if (WHOLE_ENV_REF.test(value)) whole.push(path);
    return value.replace(ENV_REF, (_all, name: string, fallback: string | undefined) => {
      // As in the shell, `:-` also replaces a variable that is set but empty.
      const found = fallback !== undefined && !env[name] ? fallback : env[name];
      if (found === undefined) problems.push({ path: formatPath(path), message: `environment variable ${name} is not set` });
      return found ?? '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveEnv(v, env, [...path, i], problems, whole));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, resolveEnv(v, env, [...path, k], problems, whole)]),
    );
  }
  return value;
}

/** "8" → 8, "true" → true; undefined for anything else. */
function typedScalar(text: string): number | boolean | undefined {
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  return undefined;
}

/**
 * The environment only holds strings. Where the schema refused one that was a whole reference, and it reads as a
 * number or a boolean, it is taken as that (`workers: ${WORKERS}` with WORKERS=4), and the config validated again.
 * A string field keeps its string, however it looks: only a refusal makes the typed reading count.
 */
function typeWholeRefs(resolved: unknown, error: z.ZodError, whole: WholeRefs): boolean {
  let changed = false;
  for (const path of whole) {
    const key = formatPath(path);
    if (!error.issues.some((issue) => formatPath(issue.path) === key)) continue;
    let parent = resolved as Record<PropertyKey, unknown>;
    for (const step of path.slice(0, -1)) parent = parent[step] as Record<PropertyKey, unknown>;
    const last = path[path.length - 1]!;
    const typed = typeof parent[last] === 'string' ? typedScalar(parent[last] as string) : undefined;
    if (typed === undefined) continue;
    parent[last] = typed;
    changed = true;
  }
  return changed;
}

function fromZod(error: z.ZodError): ConfigProblem[] {
  return error.issues.map((issue) => {
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown key${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`;
    if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) message = 'required';
    return { path: formatPath(issue.path), message };
  });
}

/** Validates an already-parsed value (from YAML, JSON or code). */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): ConfigResult {
  const problems: ConfigProblem[] = [];
  const whole: WholeRefs = [];
  const resolved = resolveEnv(raw ?? {}, env, [], problems, whole);
  let result = ConfigSchema.safeParse(resolved);
  if (!result.success && typeWholeRefs(resolved, result.error, whole)) result = ConfigSchema.safeParse(resolved);
  if (result.success && problems.length === 0) return { ok: true, config: result.data };
  // Every problem at once; a missing variable is reported once, not again as the empty value it became.
  const unset = new Set(problems.map((p) => p.path));
  const invalid = result.success ? [] : fromZod(result.error).filter((p) => !unset.has(p.path));
  return { ok: false, problems: [...problems, ...invalid] };
}

export function parseConfigText(text: string, env: NodeJS.ProcessEnv = process.env): ConfigResult {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return { ok: false, problems: doc.errors.map((e) => ({ path: '', message: `YAML: ${e.message}` })) };
  }
  return parseConfig(doc.toJS(), env);
}

export async function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<ConfigResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { ok: false, problems: [{ path: '', message: `cannot read ${file}: ${(err as Error).message}` }] };
  }
  return parseConfigText(text, env);
}
