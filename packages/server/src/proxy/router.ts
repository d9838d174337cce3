/** Routing: the first route whose every condition holds picks the pool; otherwise the default pool. */
import type { RouteConfig } from '../config/schema.ts';

import type { DownstreamRequest } from '../downstream/request.ts';

interface CompiledRoute<P> {
  readonly target: P;
  readonly hostExact: string | undefined;
  /** For `*.example.com`: `.example.com`. */
  readonly hostSuffix: string | undefined;
  readonly pathPrefix: string | undefined;
  readonly methods: ReadonlySet<string> | undefined;
  readonly headers: ReadonlyArray<readonly [string, string]> | undefined;
}

export class Router<P> {
  private readonly routes: CompiledRoute<P>[];
  private readonly fallback: P | undefined;

  constructor(routes: readonly RouteConfig[], targetOf: (route: RouteConfig) => P, fallback: P | undefined) {
    this.fallback = fallback;
    this.routes = routes.map((r) => {
      // In the form requests' hosts are matched in (src/uri.ts): lower case, no trailing dot.
      const host = r.match.host?.toLowerCase().replace(/\.$/, '');
      return {
        target: targetOf(r),
        hostExact: host !== undefined && !host.startsWith('*.') ? host : undefined,
        hostSuffix: host?.startsWith('*.') ? host.slice(1) : undefined,
        pathPrefix: r.match.path_prefix,
        methods: r.match.methods ? new Set(r.match.methods) : undefined,
        headers: r.match.headers
          ? Object.entries(r.match.headers).map(([k, v]) => [k.toLowerCase(), v] as const)
          : undefined,
      };
    });
  }

  /** `host`: the Host without port, `path`: without the query, both in normal form (ScannedHead). */
  route(host: string, path: string, req: DownstreamRequest): P | undefined {
    for (const r of this.routes) {
      if (r.hostExact !== undefined && host !== r.hostExact) continue;
      if (r.hostSuffix !== undefined && !host.endsWith(r.hostSuffix)) continue;
      if (r.pathPrefix !== undefined && !path.startsWith(r.pathPrefix)) continue;
      if (r.methods !== undefined && !r.methods.has(req.method)) continue;
      if (r.headers !== undefined && !r.headers.every(([k, v]) => req.header(k) === v)) continue;
      return r.target;
    }
    return this.fallback;
  }
}
