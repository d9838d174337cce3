/**
 * The configuration reference in docs/configuration.md, derived from the JSON Schema of what users write
 * (`configJsonSchema()`), so that a field's type, default and description live only in schema.ts. The walk
 * reads JSON Schema, a published format, rather than zod's internals. Fields keep the schema's order, so
 * the output is deterministic and reads in the order the schema declares.
 */
import { configJsonSchema, UNIT } from './schema.ts';

/** The subset of JSON Schema (draft 2020-12) that zod emits for ConfigSchema. */
interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly [UNIT]?: string;
  readonly description?: string;
  readonly default?: unknown;
  readonly const?: unknown;
  readonly enum?: readonly unknown[];
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly additionalProperties?: boolean | JsonSchema;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly $ref?: string;
  readonly $defs?: Readonly<Record<string, JsonSchema>>;
}

export interface ReferenceRow {
  /** As users write it: `pools.<name>.backends[].url`. */
  readonly path: string;
  readonly type: string;
  readonly default: string;
  readonly description: string;
}

/** The human units of units.ts, named by the UNIT keyword of schema.ts. */
const UNITS = new Set(['duration', 'size', 'percent']);

/** One row per field, sections (objects, maps, lists of objects) included, depth first in schema order. */
export function configReferenceRows(): ReferenceRow[] {
  const root = configJsonSchema() as JsonSchema;
  const rows: ReferenceRow[] = [];
  // `required` is undefined for a map's value or a list's item: it exists when the user writes one.
  const walk = (node: JsonSchema, path: string, required: boolean | undefined): void => {
    const s = resolve(node, root);
    const fallback = required === undefined ? '' : defaultOf(s, required);
    rows.push({ path, type: typeOf(s, root), default: fallback, description: s.description ?? '' });
    for (const [key, child] of Object.entries(s.properties ?? {})) {
      walk(child, `${path}.${key}`, s.required?.includes(key) ?? false);
    }
    const values = typeof s.additionalProperties === 'object' ? resolve(s.additionalProperties, root) : undefined;
    if (values && hasFields(values)) walk(values, `${path}.<name>`, undefined);
    const items = s.items ? resolve(s.items, root) : undefined;
    if (items && hasFields(items)) walk(items, `${path}[]`, undefined);
  };
  for (const [key, child] of Object.entries(root.properties ?? {})) walk(child, key, root.required?.includes(key) ?? false);
  return rows;
}

/** The reference section of docs/configuration.md: a legend and one table row per field. */
export function configReferenceMarkdown(): string {
  const lines = [
    '## Reference',
    '',
    'Every field, generated from the schema (`packages/server/src/config/schema.ts`). `<name>` stands for a name',
    'you choose (a pool name) and `[]` for each item of a list. Unknown keys are errors.',
    '',
    'Units: a *duration* is `500ms`, `2s`, `1.5m`, `1h` or a number of milliseconds; a *size* is `512b`,',
    '`16kb`, `10mb`, `1gb` (binary multiples: 1kb = 1024 bytes) or a number of bytes; a *percent* is `20%` or a',
    'fraction from 0 to 1. Any string value may use `${VAR}` or `${VAR:-default}` to read the environment; a value',
    'that is one whole reference also stands for a number or a boolean where the field wants one (`workers: ${WORKERS}`).',
    '',
    '| Field | Type | Default | Description |',
    '| --- | --- | --- | --- |',
    ...configReferenceRows().map((r) => `| ${code(r.path)} | ${r.type} | ${r.default} | ${escapeCell(r.description)} |`),
  ];
  return `${lines.join('\n')}\n`;
}

function resolve(node: JsonSchema, root: JsonSchema): JsonSchema {
  // zod inlines reused schemas by default; a registered id would become a local `#/$defs/...` reference.
  const prefix = '#/$defs/';
  if (node.$ref?.startsWith(prefix)) {
    const target = root.$defs?.[node.$ref.slice(prefix.length)];
    if (!target) throw new Error(`configJsonSchema: unresolved ${node.$ref}`);
    const { $ref: _ref, ...rest } = node;
    return { ...resolve(target, root), ...rest };
  }
  return node;
}

function hasFields(s: JsonSchema): boolean {
  return s.properties !== undefined && Object.keys(s.properties).length > 0;
}

function typeOf(s: JsonSchema, root: JsonSchema): string {
  const unit = s[UNIT];
  if (unit !== undefined && UNITS.has(unit)) return unit;
  if (s.const !== undefined) return code(show(s.const));
  if (s.enum) return `one of ${s.enum.map((v) => code(show(v))).join(', ')}`;
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return alternatives.map((a) => typeOf(resolve(a, root), root)).join(' or ');
  const types = typeof s.type === 'string' ? [s.type] : (s.type ?? []);
  return types.map((t) => describeType(t, s, root)).join(' or ') || 'any';
}

function describeType(type: string, s: JsonSchema, root: JsonSchema): string {
  switch (type) {
    case 'integer':
    case 'number':
      return `${type}${range(s)}`;
    case 'string':
      return s.minLength ? `string, at least ${s.minLength} characters` : 'string';
    case 'array':
      return s.items ? `list of ${typeOf(resolve(s.items, root), root)}` : 'list';
    case 'object':
      if (hasFields(s) || typeof s.additionalProperties !== 'object') return 'object';
      return `map of ${typeOf(resolve(s.additionalProperties, root), root)}`;
    default:
      return type;
  }
}

function range(s: JsonSchema): string {
  // zod writes Number.MAX_SAFE_INTEGER as the bound of every `.int()`; it says nothing to a reader.
  const max = s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
  if (s.minimum !== undefined && max !== undefined) return `, ${s.minimum} to ${max}`;
  if (s.minimum !== undefined) return `, at least ${s.minimum}`;
  if (max !== undefined) return `, at most ${max}`;
  return '';
}

function defaultOf(s: JsonSchema, required: boolean): string {
  if (s.default !== undefined) return code(show(s.default));
  return required ? '**required**' : 'unset';
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A Markdown code span; a value holding backticks gets a longer fence (CommonMark §6.1). */
function code(text: string): string {
  const fence = text.includes('`') ? '``' : '`';
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text.replaceAll('|', '\\|')}${pad}${fence}`;
}

/** Free text in a table cell: a pipe would end the cell, and *, _, < and \ would start markup. */
function escapeCell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/[\\|*_<>`]/g, (c) => `\\${c}`);
}
