/**
 * `fulcrum/layers`: which unit of a source tree may import which. A unit is a top-level folder of the tree
 * (`proxy/`) or a top-level file without its suffix (`errors.ts` is `errors`). Each relative import is resolved to
 * the file it names, so the check is about where code lives, not how the path is spelled (`../../time.ts` from
 * `cache/stores/` and `../time.ts` from `cache/` are the same edge).
 *
 * Options: `{ root, allow }`. `root` is the tree, relative to the working directory. `allow` maps a unit (or one
 * file, `observability/metrics.ts`, for an exception on top of its unit's list) to what it may import besides
 * itself: unit names, or `{ path, typeOnly }` for one file of another unit, optionally for `import type` only.
 * A unit missing from the table is reported, so that a new folder gets a place in the layers on purpose.
 */
import path from 'node:path';

/** @param {string} rel a path relative to the root, with '/' separators */
function unitOf(rel) {
  const first = rel.split('/')[0];
  return rel.includes('/') ? first : first.replace(/\.[cm]?[jt]sx?$/, '');
}

/** @param {import('estree').Node & { importKind?: string, exportKind?: string, specifiers?: any[] }} node */
function isTypeOnly(node) {
  if (node.type === 'ImportExpression') return false;
  if (node.importKind === 'type' || node.exportKind === 'type') return true;
  const specifiers = node.specifiers ?? [];
  return specifiers.length > 0 && specifiers.every((s) => s.importKind === 'type' || s.exportKind === 'type');
}

/** @type {import('eslint').Rule.RuleModule} */
export const layers = {
  meta: {
    type: 'problem',
    docs: { description: 'Keeps imports between the units of a source tree in the directions its layer table allows' },
    schema: [
      {
        type: 'object',
        properties: { root: { type: 'string' }, allow: { type: 'object' } },
        required: ['root', 'allow'],
        additionalProperties: false,
      },
    ],
    messages: {
      forbidden: "'{{from}}' may not import '{{to}}' ({{target}}): see the layer table in eslint.config.js",
      typesOnly: "'{{from}}' may import only types from {{target}}: use `import type`",
      unknownUnit: "'{{unit}}' has no place in the layer table of {{root}}: add it to eslint.config.js",
    },
  },

  create(context) {
    const { root, allow } = context.options[0];
    const rootAbs = path.resolve(context.cwd, root);
    const file = context.filename;
    const fileRel = path.relative(rootAbs, file).split(path.sep).join('/');
    if (fileRel.startsWith('..') || path.isAbsolute(fileRel)) return {};
    const from = unitOf(fileRel);
    const entries = [...(allow[from] ?? []), ...(allow[fileRel] ?? [])];
    const units = new Set(entries.filter((e) => typeof e === 'string'));
    /** @type {Map<string, boolean>} file → type-only */
    const files = new Map(entries.filter((e) => typeof e === 'object').map((e) => [e.path, e.typeOnly === true]));

    /** @param {any} node the import or export; `source` its string literal */
    function check(node) {
      const source = node.source;
      if (source === null || source === undefined || source.type !== 'Literal' || typeof source.value !== 'string') return;
      const spec = source.value;
      if (!spec.startsWith('.')) return; // a package or node: builtin
      const targetRel = path.relative(rootAbs, path.resolve(path.dirname(file), spec)).split(path.sep).join('/');
      if (targetRel.startsWith('..') || path.isAbsolute(targetRel)) return; // outside the tree: not a layer edge
      const to = unitOf(targetRel);
      if (to === from) return;
      if (!(from in allow)) {
        context.report({ node: source, messageId: 'unknownUnit', data: { unit: from, root } });
        return;
      }
      if (!(to in allow)) {
        context.report({ node: source, messageId: 'unknownUnit', data: { unit: to, root } });
        return;
      }
      if (units.has(to)) return;
      const typeOnly = files.get(targetRel);
      if (typeOnly === false || (typeOnly === true && isTypeOnly(node))) return;
      const data = { from, to, target: targetRel };
      context.report({ node: source, messageId: typeOnly === true ? 'typesOnly' : 'forbidden', data });
    }

    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
    };
  },
};
