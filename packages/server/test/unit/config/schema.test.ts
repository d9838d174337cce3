import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatProblems, loadConfigFile, parseConfig, parseConfigText, type ConfigResult } from '../../../src/config/load.ts';
import { configJsonSchema, type Config } from '../../../src/config/schema.ts';
import { listenersOf } from '../../../src/config/listeners.ts';

const EXAMPLE_FILE = fileURLToPath(new URL('../../../../../examples/fulcrum.yaml', import.meta.url));

/** The example of the issue that introduced the config. */
const EXAMPLE = `
listen: 127.0.0.1:8080
admin: { listen: 127.0.0.1:9090 }
workers: auto
pools:
  api:
    algorithm: p2c-ewma
    backends:
      - { url: http://127.0.0.1:8001, weight: 2 }
      - { url: http://127.0.0.1:8002 }
    health:
      active: { path: /healthz, interval: 2s, timeout: 1s, healthy: 2, unhealthy: 3 }
      passive: { consecutive_failures: 5, ejection: 30s, max_ejected: 50% }
    retries: { attempts: 2, budget: 20% }
    timeouts: { connect: 1s, response: 30s, idle: 60s }
routes:
  - match: { host: api.example.com, path_prefix: /api/ }
    pool: api
`;

function valid(result: ConfigResult): Config {
  if (!result.ok) assert.fail(`expected a valid config, got:\n${formatProblems(result.problems)}`);
  return result.config;
}

/** The problems as users read them (`path: message`), sorted so that the order of zod's walk does not matter. */
function problems(result: ConfigResult): string[] {
  assert.equal(result.ok, false, 'expected the config to be refused');
  return result.ok ? [] : result.problems.map((p) => formatProblems([p])).sort();
}

const minimal = (pool: object = {}) => ({ pools: { api: { backends: [{ url: 'http://127.0.0.1:8001' }], ...pool } } });

describe('the example config', () => {
  test('validates and yields milliseconds, bytes and fractions', () => {
    const config = valid(parseConfigText(EXAMPLE, {}));
    assert.equal(config.listen, '127.0.0.1:8080');
    assert.equal(config.admin.listen, '127.0.0.1:9090');
    assert.equal(config.workers, 'auto');
    assert.deepEqual(config.pools.api, {
      algorithm: 'p2c-ewma',
      hash: { key: 'ip', bounded_load: 1.25 },
      sticky: { cookie: 'fulcrum_backend', ttl: 0 },
      backends: [
        { url: 'http://127.0.0.1:8001', weight: 2, drain: false },
        { url: 'http://127.0.0.1:8002', weight: 1, drain: false },
      ],
      health: {
        active: { path: '/healthz', interval: 2000, timeout: 1000, healthy: 2, unhealthy: 3 },
        passive: { consecutive_failures: 5, ejection: 30_000, max_ejected: 0.5 },
        slow_start: 0,
      },
      retries: { attempts: 2, budget: 0.2, min_per_second: 3 },
      timeouts: { connect: 1000, response: 30_000, idle: 60_000, request: 0, client_body: 60_000 },
      circuit_breaker: { max_connections: 1024, max_pending: 1024 },
    });
    assert.deepEqual(config.limits, {
      max_header_size: 16 * 1024,
      max_body_size: 10 * 1024 * 1024,
      header_timeout: 10_000,
      keepalive_timeout: 5000,
      send_timeout: 60_000,
    });
    assert.deepEqual(config.routes, [{ match: { host: 'api.example.com', path_prefix: '/api/' }, pool: 'api' }]);
  });

  test('examples/fulcrum.yaml, its commented copy, validates to the same config', async () => {
    const fromFile = valid(await loadConfigFile(EXAMPLE_FILE, {}));
    assert.deepEqual(fromFile, valid(parseConfigText(EXAMPLE, {})));
  });

  test('is accepted as JSON too', () => {
    const yaml = valid(parseConfigText(EXAMPLE, {}));
    const json = JSON.stringify({
      listen: '127.0.0.1:8080',
      admin: { listen: '127.0.0.1:9090' },
      workers: 'auto',
      pools: {
        api: {
          algorithm: 'p2c-ewma',
          backends: [{ url: 'http://127.0.0.1:8001', weight: 2 }, { url: 'http://127.0.0.1:8002' }],
          health: {
            active: { path: '/healthz', interval: '2s', timeout: '1s', healthy: 2, unhealthy: 3 },
            passive: { consecutive_failures: 5, ejection: '30s', max_ejected: '50%' },
          },
          retries: { attempts: 2, budget: '20%' },
          timeouts: { connect: '1s', response: '30s', idle: '60s' },
        },
      },
      routes: [{ match: { host: 'api.example.com', path_prefix: '/api/' }, pool: 'api' }],
    }, null, 2);
    assert.deepEqual(valid(parseConfigText(json, {})), yaml);
  });
});

describe('defaults', () => {
  test('fill every section a config leaves out', () => {
    const config = valid(parseConfig(minimal(), {}));
    assert.deepEqual(listenersOf(config), [{ listen: '127.0.0.1:8080', redirect_https: false }]);
    assert.deepEqual(config.admin, { listen: '127.0.0.1:9090', allowed_hosts: [] });
    assert.equal(config.workers, 'auto');
    assert.deepEqual(config.log, { level: 'info', access: true });
    assert.deepEqual(config.trusted_proxies, []);
    assert.equal(config.drain_timeout, 30_000);
    assert.deepEqual(config.routes, []);
    assert.equal(config.default_pool, undefined);
    const pool = config.pools.api!;
    assert.equal(pool.algorithm, 'round-robin');
    assert.deepEqual(pool.retries, { attempts: 2, budget: 0.2, min_per_second: 3 });
    assert.deepEqual(pool.timeouts, { connect: 5000, response: 30_000, idle: 60_000, request: 0, client_body: 60_000 });
    assert.deepEqual(pool.circuit_breaker, { max_connections: 1024, max_pending: 1024 });
    // Health checks are opt-in: without `active` or `passive` there is none of that kind.
    assert.deepEqual(pool.health, { slow_start: 0 });
  });

  test('fill the fields of a section given in part', () => {
    const pool = valid(parseConfig(minimal({ retries: { attempts: 0 }, health: { active: { path: '/up' } } }), {})).pools.api!;
    assert.deepEqual(pool.retries, { attempts: 0, budget: 0.2, min_per_second: 3 });
    assert.deepEqual(pool.health.active, { path: '/up', interval: 2000, timeout: 1000, healthy: 2, unhealthy: 3 });
  });

  test('let units also be written as plain numbers of milliseconds, bytes or a fraction', () => {
    const config = valid(
      parseConfig({ ...minimal({ timeouts: { connect: 250 }, retries: { budget: 0.1 } }), limits: { max_body_size: 1000 } }, {}),
    );
    assert.equal(config.pools.api!.timeouts.connect, 250);
    assert.equal(config.pools.api!.retries.budget, 0.1);
    assert.equal(config.limits.max_body_size, 1000);
  });
});

describe('a bad config', () => {
  test('lists every problem at once, each by its path', () => {
    const text = `
listen: localhost
pools:
  api:
    backends:
      - { url: http://127.0.0.1:8001 }
      - { url: "127.0.0.1:8002" }
      - { url: http://127.0.0.1:8001/, wieght: 2 }
    health:
      active: { interval: 2 secs }
    retries: { budget: 120% }
    timeout: { connect: 1s }
routes:
  - { match: { path_prefix: /api/ }, pool: ap }
default_pool: web
log_level: debug
`;
    assert.deepEqual(problems(parseConfigText(text, {})), [
      'default_pool: no pool named "web"',
      'listen: not a host:port address',
      'pools.api.backends[1].url: not a valid URL (expected http://host:port with no path)',
      'pools.api.backends[2].url: duplicate backend http://127.0.0.1:8001',
      'pools.api.backends[2]: unknown key: wieght',
      'pools.api.health.active.interval: not a duration (use e.g. "500ms", "2s", "1m"): "2 secs"',
      'pools.api.retries.budget: not a percentage (use e.g. "20%"): "120%"',
      'pools.api: unknown key: timeout',
      'routes[0].pool: no pool named "ap"',
      'unknown key: log_level',
    ]);
  });

  test('names a missing required field', () => {
    assert.deepEqual(problems(parseConfig({ pools: { api: { backends: [{ weight: 2 }] } }, routes: [{}] }, {})), [
      'pools.api.backends[0].url: required',
      'routes[0].pool: required',
    ]);
  });

  test('reports a backend listed twice', () => {
    const config = { pools: { api: { backends: [{ url: 'http://a.internal:80' }, { url: 'http://a.internal' }] } } };
    assert.deepEqual(problems(parseConfig(config, {})), ['pools.api.backends[1].url: duplicate backend http://a.internal']);
  });

  test('needs at least one pool', () => {
    assert.deepEqual(problems(parseConfig({ pools: {} }, {})), ['pools: at least one pool is needed']);
  });

  test('of the wrong shape is refused with problems, not an exception', () => {
    assert.deepEqual(problems(parseConfig({ ...minimal(), routes: { api: 'api' } }, {})), [
      'routes: Invalid input: expected array, received object',
    ]);
    assert.ok(problems(parseConfigText('just a string', {})).length > 0);
  });
});

describe('environment references', () => {
  const withEnv = {
    admin: { token: '${ADMIN_TOKEN}' },
    pools: { api: { backends: [{ url: 'http://${API_HOST}:8001' }, { url: '${API_2:-http://127.0.0.1:8002}' }] } },
  };

  test('${NAME} is replaced, inside a longer string too', () => {
    const config = valid(parseConfig(withEnv, { ADMIN_TOKEN: 'a-secret-of-16-chars', API_HOST: '10.0.0.7' }));
    assert.equal(config.admin.token, 'a-secret-of-16-chars');
    assert.equal(config.pools.api!.backends[0]!.url, 'http://10.0.0.7:8001');
  });

  test('${NAME:-default} takes the default when NAME is unset or empty, as in the shell', () => {
    const env = { ADMIN_TOKEN: 'a-secret-of-16-chars', API_HOST: 'h' };
    assert.equal(valid(parseConfig(withEnv, env)).pools.api!.backends[1]!.url, 'http://127.0.0.1:8002');
    assert.equal(valid(parseConfig(withEnv, { ...env, API_2: '' })).pools.api!.backends[1]!.url, 'http://127.0.0.1:8002');
    assert.equal(valid(parseConfig(withEnv, { ...env, API_2: 'http://b:1' })).pools.api!.backends[1]!.url, 'http://b:1');
  });

  test('a missing variable is named with its path, beside the other problems', () => {
    const config = { ...withEnv, workers: 0 };
    assert.deepEqual(problems(parseConfig(config, { API_HOST: 'h' })), [
      'admin.token: environment variable ADMIN_TOKEN is not set',
      'workers: Too small: expected number to be >=1',
    ].sort());
  });

  test('a whole reference where a number or a boolean is wanted is read as one; a string field keeps its string', () => {
    const input = {
      workers: '${WORKERS}',
      log: { access: '${ACCESS:-false}' },
      pools: { api: { backends: [{ url: 'http://127.0.0.1:8001', weight: '${WEIGHT}' }] } },
      routes: [{ match: { headers: { 'x-version': '${VERSION}' } }, pool: 'api' }],
    };
    const config = valid(parseConfig(input, { WORKERS: '4', WEIGHT: '3', VERSION: '2' }));
    assert.deepEqual([config.workers, config.log.access, config.pools.api!.backends[0]!.weight], [4, false, 3]);
    assert.equal(config.routes![0]!.match.headers!['x-version'], '2');
    assert.equal(valid(parseConfig(input, { WORKERS: 'auto', WEIGHT: '1', VERSION: '2' })).workers, 'auto');
    assert.deepEqual(problems(parseConfig(input, { WORKERS: '0', WEIGHT: 'heavy', VERSION: '2' })), [
      'pools.api.backends[0].weight: Invalid input: expected number, received string',
      'workers: Too small: expected number to be >=1',
    ]);
  });

  test('are resolved in YAML text', () => {
    const text = 'pools:\n  api:\n    backends: [{ url: "${URL}" }]\n';
    assert.equal(valid(parseConfigText(text, { URL: 'http://127.0.0.1:9000' })).pools.api!.backends[0]!.url, 'http://127.0.0.1:9000');
  });
});

describe('YAML', () => {
  test('a syntax error is reported with its line, not thrown', () => {
    const result = parseConfigText('pools:\n  api: { backends: [\n', {});
    assert.equal(result.ok, false);
    const [first] = result.ok ? [] : result.problems;
    assert.equal(first?.path, '');
    assert.match(first?.message ?? '', /^YAML: .* at line \d+, column \d+/);
  });

  test('a key given twice is an error, not a silent override', () => {
    const found = problems(parseConfigText('listen: 127.0.0.1:1\nlisten: 127.0.0.1:2\npools: { api: {} }\n', {}));
    assert.equal(found.length, 1);
    assert.match(found[0]!, /^YAML: Map keys must be unique at line 2/);
  });

  test('an unreadable file is a problem naming the file', async () => {
    const result = await loadConfigFile('/nonexistent/fulcrum.yaml', {});
    assert.match(problems(result)[0]!, /^cannot read \/nonexistent\/fulcrum\.yaml: /);
  });
});

describe('configJsonSchema', () => {
  type Node = Record<string, unknown>;
  const schema = configJsonSchema() as Node;
  const props = (node: unknown) => (node as { properties: Record<string, Node> }).properties;

  test('describes a strict object with listen, pools and routes, pools required', () => {
    assert.equal(schema.type, 'object');
    assert.equal(schema.additionalProperties, false);
    for (const key of ['listen', 'pools', 'routes']) assert.ok(key in props(schema), `no property ${key}`);
    assert.deepEqual(schema.required, ['pools']);
  });

  test('is strict at every level, so that editors flag a misspelt key anywhere', () => {
    const loose: string[] = [];
    const visit = (node: unknown, path: string): void => {
      if (node === null || typeof node !== 'object') return;
      const n = node as Node;
      if (n.properties !== undefined && n.additionalProperties !== false) loose.push(path);
      for (const [key, child] of Object.entries(n)) visit(child, `${path}/${key}`);
    };
    visit(schema, '#');
    assert.deepEqual(loose, []);
  });

  test('describes what users write: units as strings, with their defaults', () => {
    const pool = (props(schema).pools as { additionalProperties: Node }).additionalProperties;
    const active = props(props(props(pool).health).active);
    assert.deepEqual(active.interval, {
      'x-fulcrum-unit': 'duration',
      description: 'Time between probes of one backend (jittered by up to 10%).',
      default: '2s',
      type: ['string', 'number'],
    });
    assert.equal(props(props(schema).limits).max_body_size!['x-fulcrum-unit'], 'size');
    assert.equal(props(props(pool).retries).budget!.default, '20%');
  });
});

test('issue 13 #9: admin.allowed_hosts takes host names and host:port, and refuses URLs, paths and userinfo', () => {
  const withHosts = (allowed_hosts: string[]) => parseConfig({ ...minimal(), admin: { allowed_hosts } }, {});
  assert.deepEqual(valid(withHosts(['admin.example.com', 'prom.internal:9090', '[::1]:9090', '10.0.0.5'])).admin.allowed_hosts, [
    'admin.example.com',
    'prom.internal:9090',
    '[::1]:9090',
    '10.0.0.5',
  ]);
  for (const bad of ['http://admin.example.com', 'admin.example.com/x', 'u@admin.example.com', 'a b', '']) {
    const result = withHosts([bad]);
    assert.equal(result.ok, false, bad);
  }
});
