// ESLint for the whole repository: `npm run lint` (scripts/test.sh runs it right after the type check).
// typescript-eslint's recommended rules without type information (type-aware rules would need a second compiler
// pass of TypeScript 6: the type check itself is tsc 7's), React's hook rules for the dashboard, and the import
// directions of STYLE.md §2 for the server (fulcrum/layers, tools/lint/layers.js) and the dashboard.
import { defineConfig } from 'eslint/config';
import { js, layers, reactHooks, tseslint } from '@fulcrum/lint';

/** The one dashboard file that may import from the server's sources (its API types and shared constants). */
const DASHBOARD_SERVER_ENTRY = 'packages/dashboard/src/lib/server-api.ts';
/** Until that entry exists, the files that still import the server directly. Empty this list at the merge. */
const DASHBOARD_SERVER_IMPORTERS_BEFORE_ENTRY = ['packages/dashboard/src/lib/rates.ts', 'packages/dashboard/src/lib/types.ts'];

// packages/server/src, bottom to top: what each unit may import besides itself.
//   cli → admin / proxy / workers → upstream / downstream / balancing / health / cache / tls / acme
//       → observability / config / http1 → errors / time / uri
// Units on one row may import each other, except balancing and health. Nothing imports cli; only workers (which
// wires a process: the proxy server, the admin server) imports proxy and admin; admin reaches the workers only
// through the control plane's types.
const LEAVES = ['errors', 'time', 'uri'];
const BASE = [...LEAVES, 'config', 'observability', 'http1'];
const DOMAIN = ['upstream', 'downstream', 'balancing', 'health', 'cache', 'tls', 'acme'];
const SERVER_LAYERS = {
  errors: [],
  time: [],
  uri: [],
  http1: ['errors', 'uri'], // the HTTP/1.1 codec: bytes in, heads and bodies out
  config: LEAVES,
  observability: [...LEAVES, 'config'],
  // The Prometheus view renders every backend state as a label, so it reads upstream's closed set.
  'observability/metrics.ts': [{ path: 'upstream/backend.ts' }],
  upstream: [...BASE, ...DOMAIN],
  downstream: [...BASE, ...DOMAIN],
  cache: [...BASE, ...DOMAIN],
  balancing: [...BASE, ...DOMAIN.filter((u) => u !== 'health')],
  health: [...BASE, ...DOMAIN.filter((u) => u !== 'balancing')],
  tls: [...BASE, ...DOMAIN], // termination: ClientHello, certificate sets, material from files
  acme: [...BASE, ...DOMAIN], // automatic certificates; its Redis sharing uses cache's connection settings
  proxy: [...BASE, ...DOMAIN],
  admin: [
    ...BASE,
    ...DOMAIN,
    { path: 'workers/control-plane.ts', typeOnly: true },
    { path: 'workers/registrations.ts', typeOnly: true },
  ],
  workers: [...BASE, ...DOMAIN, 'proxy', 'admin'],
  cli: [...BASE, ...DOMAIN, 'proxy', 'admin', 'workers'],
};

export default defineConfig(
  {
    ignores: ['**/dist/**', 'bench/results/**', 'tmp/**'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // A leading underscore marks a name kept on purpose (a parameter of an interface, a field left out of a rest).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['packages/server/src/**/*.ts'],
    plugins: { fulcrum: { rules: { layers } } },
    rules: { 'fulcrum/layers': ['error', { root: 'packages/server/src', allow: SERVER_LAYERS }] },
  },
  {
    files: ['packages/dashboard/src/**/*.{ts,tsx}'],
    ...reactHooks.configs.flat['recommended-latest'],
  },
  {
    files: ['packages/dashboard/src/**/*.{ts,tsx}'],
    ignores: [DASHBOARD_SERVER_ENTRY, ...DASHBOARD_SERVER_IMPORTERS_BEFORE_ENTRY],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+server/|^@fulcrum/server',
              message: `The dashboard reads the server's types through ${DASHBOARD_SERVER_ENTRY} only.`,
            },
          ],
        },
      ],
    },
  },
);
