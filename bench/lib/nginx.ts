/**
 * nginx, as a backend and as a proxy: one master with `worker_processes 1`, run in the foreground from a
 * private prefix folder so that it touches nothing of the system's nginx.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Managed, ProcessGroup } from './processes.ts';

export type NginxMethod = 'round-robin' | 'least_conn';

export interface NginxProxyServer {
  readonly port: number;
  readonly method: NginxMethod;
  readonly backendPorts: readonly number[];
  /** Also pass a request on to the next server when one answers 503 (`proxy_next_upstream … http_503`). */
  readonly retry503?: boolean;
}

function prelude(dir: string): string {
  // As root, workers would run as "nobody" with group "nobody", which Debian lacks.
  const user = process.getuid?.() === 0 ? 'user root root;\n' : '';
  return `${user}worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
`;
}

function httpCommon(dir: string): string {
  return `  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  # No periodic connection closes from either side during a run (the default is 1000 requests).
  keepalive_requests 1000000;
  keepalive_timeout 75s;
`;
}

/** Backends: every port answers 200 with `body` (ASCII, no quotes or backslashes). */
export function nginxBackendConf(dir: string, ports: readonly number[], body: string): string {
  const listens = ports.map((p) => `    listen 127.0.0.1:${p};`).join('\n');
  return `${prelude(dir)}http {
${httpCommon(dir)}  server {
${listens}
    location / {
      default_type text/plain;
      return 200 "${body}";
    }
  }
}
`;
}

/** The path of the request counter that the cache benchmark's backends serve (nginx: stub_status). */
export const REQUEST_COUNT_PATH = '/__requests';

/**
 * The cache benchmark's backend: the 1 KB body, cacheable for an hour under /cached, `no-store` under /nostore
 * (the same at every other path: cacheable), and stub_status at REQUEST_COUNT_PATH, whose `requests` total tells
 * whether a cache let anything through during a run.
 */
export function nginxCacheBackendConf(dir: string, port: number, body: string): string {
  const answer = (cacheControl: string) => `      default_type text/plain;
      add_header Cache-Control "${cacheControl}" always;
      return 200 "${body}";`;
  return `${prelude(dir)}http {
${httpCommon(dir)}  server {
    listen 127.0.0.1:${port};
    location / {
${answer('max-age=3600')}
    }
    location /nostore {
${answer('no-store')}
    }
    location = ${REQUEST_COUNT_PATH} {
      stub_status;
    }
  }
}
`;
}

/**
 * nginx as a caching proxy (one worker): proxy_cache in a private folder, the backend's Cache-Control honoured
 * (nginx's default), concurrent misses collapsed (proxy_cache_lock), and X-Cache-Status telling HIT from MISS.
 */
export function nginxCacheProxyConf(dir: string, port: number, backendPort: number): string {
  return `${prelude(dir)}http {
${httpCommon(dir)}  proxy_cache_path ${dir}/cache levels=1:2 keys_zone=bench:10m max_size=256m inactive=2h use_temp_path=off;
  upstream origin {
    server 127.0.0.1:${backendPort};
    keepalive 64;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache bench;
      proxy_cache_lock on;
      add_header X-Cache-Status $upstream_cache_status always;
    }
  }
}
`;
}

/** Proxies: an upstream with 64 idle keep-alive connections per worker, HTTP/1.1 to the backends. */
export function nginxProxyConf(dir: string, servers: readonly NginxProxyServer[]): string {
  const blocks = servers.map((s) => {
    const name = `pool_${s.port}`;
    const method = s.method === 'least_conn' ? '    least_conn;\n' : '';
    const backends = s.backendPorts.map((p) => `    server 127.0.0.1:${p};`).join('\n');
    return `  upstream ${name} {
${method}${backends}
    keepalive 64;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
  server {
    listen 127.0.0.1:${s.port};
    location / {
      proxy_pass http://${name};
      proxy_http_version 1.1;
      proxy_set_header Connection "";${s.retry503 === true ? '\n      proxy_next_upstream error timeout http_503;' : ''}
    }
  }`;
  });
  return `${prelude(dir)}http {
${httpCommon(dir)}${blocks.join('\n')}
}
`;
}

/**
 * nginx speaking HTTP/2 to clients, HTTP/1.1 with 64 idle keep-alive connections to the backends: h2c with prior
 * knowledge on a plain listener, or h2 by ALPN with `tls` (TLS 1.2 and 1.3, session cache and tickets on).
 * Its stream limit is its default, 128, as Fulcrum's.
 */
export function nginxH2ProxyConf(dir: string, port: number, backendPorts: readonly number[], tls?: { cert: string; key: string }): string {
  const backends = backendPorts.map((p) => `    server 127.0.0.1:${p};`).join('\n');
  const ssl = tls === undefined
    ? ''
    : `    ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:bench:10m;
    ssl_session_tickets on;
`;
  return `${prelude(dir)}http {
${httpCommon(dir)}  upstream pool {
${backends}
    keepalive 64;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
  server {
    listen 127.0.0.1:${port} ${tls === undefined ? '' : 'ssl '}http2;
${ssl}    location / {
      proxy_pass http://pool;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

/** Writes the config into `dir` and starts nginx in the foreground; resolves once `waitPort` accepts. */
export async function startNginx(
  group: ProcessGroup,
  binary: string,
  name: string,
  dir: string,
  conf: string,
  waitPort: number,
): Promise<Managed> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'nginx.conf');
  await writeFile(file, conf);
  return group.startListening(
    // -e stderr: the startup error log, before the config is read, must not go to /var/log/nginx.
    { name, command: binary, args: ['-p', dir, '-c', file, '-e', 'stderr', '-g', 'daemon off;'], stopSignal: 'SIGTERM' },
    waitPort,
  );
}
