/** GET /api/openapi.json: an OpenAPI 3.1 document that describes every admin route, so docs and routes cannot drift. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MUTATIONS, ROUTES } from '../../src/admin/server.ts';
import { startBackends, type TestBackend } from '../support/backend.ts';
import { getJson } from '../support/client.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';

interface Operation {
  security?: Array<Record<string, string[]>>;
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}
interface OpenApi {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; scheme: string }>; schemas: Record<string, unknown> };
}

let bs: TestBackend[];
let fulcrum: InProcessFulcrum;
let doc: OpenApi;

before(async () => {
  bs = await startBackends(1);
  fulcrum = await startFulcrum({ pools: { web: { backends: bs.map((b) => ({ url: b.url })) } } });
  const res = await getJson<OpenApi>(`${fulcrum.adminUrl}/api/openapi.json`);
  assert.equal(res.status, 200);
  doc = res.body;
});

after(async () => {
  await fulcrum?.stop();
  for (const b of bs ?? []) await b.close();
});

test('the document is OpenAPI 3.1 with a bearer security scheme', () => {
  assert.match(doc.openapi, /^3\.1\./);
  assert.deepEqual(doc.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer' });
});

test('every GET route of the admin server, the stream and the metrics appear in the document, without security', () => {
  const paths = [...ROUTES.map(([template]) => template), '/api/events/stream', '/metrics', '/healthz'];
  for (const path of paths) {
    const get = doc.paths[path]?.get;
    assert.ok(get, `GET ${path} is not documented`);
    assert.equal(get.security, undefined, `GET ${path} should need no token`);
  }
});

test('every mutation appears with its method, the bearer scheme, and a 401 in the error shape', () => {
  for (const [method, template] of MUTATIONS) {
    const op = doc.paths[template]?.[method.toLowerCase()];
    assert.ok(op, `${method} ${template} is not documented`);
    assert.deepEqual(op.security, [{ bearer: [] }], `${method} ${template}`);
    assert.deepEqual(op.responses['401']?.content?.['application/json']?.schema, { $ref: '#/components/schemas/Error' });
  }
});

test('the document describes no route the server lacks', () => {
  const known = new Set([...ROUTES.map(([t]) => `get ${t}`), ...MUTATIONS.map(([m, t]) => `${m.toLowerCase()} ${t}`), 'get /api/events/stream', 'get /metrics', 'get /healthz']);
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const method of Object.keys(ops)) assert.ok(known.has(`${method} ${path}`), `${method} ${path} is documented but not served`);
  }
});

test('the error shape is { error: { code, message, details } }', () => {
  const error = doc.components.schemas.Error as { properties: { error: { required: string[]; properties: Record<string, unknown> } } };
  assert.deepEqual(error.properties.error.required, ['code', 'message']);
  assert.deepEqual(Object.keys(error.properties.error.properties), ['code', 'message', 'details']);
});
