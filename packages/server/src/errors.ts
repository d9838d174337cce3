/**
 * One catalogue of the errors Fulcrum turns into responses. Each has a stable code, the status it maps to,
 * where it came from, and whether the request may be retried on another backend.
 * `if-reused`: only when the failure happened on a reused keep-alive socket (the backend may have closed it).
 */
export type ErrorSource = 'client' | 'backend' | 'internal';
export type RetryRule = 'yes' | 'no' | 'if-reused';

interface ErrorSpec {
  readonly status: number;
  readonly source: ErrorSource;
  readonly retry: RetryRule;
  readonly message: string;
}

export const ERRORS = {
  FUL_ERR_NO_ROUTE: { status: 404, source: 'client', retry: 'no', message: 'no route matches this request' },
  FUL_ERR_BAD_REQUEST: { status: 400, source: 'client', retry: 'no', message: 'malformed request' },
  // RFC 9111 §5.2.1.7: only-if-cached, and nothing stored can answer.
  FUL_ERR_NOT_CACHED: { status: 504, source: 'client', retry: 'no', message: 'only-if-cached: no stored response can answer' },
  FUL_ERR_HEADERS_TOO_LARGE: { status: 431, source: 'client', retry: 'no', message: 'request headers too large' },
  FUL_ERR_BODY_TOO_LARGE: { status: 413, source: 'client', retry: 'no', message: 'request body too large' },
  FUL_ERR_CLIENT_TIMEOUT: { status: 408, source: 'client', retry: 'no', message: 'request head not received in time' },
  FUL_ERR_CLIENT_BODY_TIMEOUT: { status: 408, source: 'client', retry: 'no', message: 'request body not received in time' },
  FUL_ERR_EXPECTATION_FAILED: { status: 417, source: 'client', retry: 'no', message: 'unsupported expectation' },
  FUL_ERR_RATE_LIMITED: { status: 429, source: 'client', retry: 'no', message: "over this route's rate limit" },
  FUL_ERR_CLIENT_ABORTED: { status: 499, source: 'client', retry: 'no', message: 'client closed the request' },
  FUL_ERR_NO_BACKEND: { status: 503, source: 'internal', retry: 'no', message: 'no backend available' },
  FUL_ERR_CIRCUIT_OPEN: { status: 503, source: 'internal', retry: 'yes', message: 'backend at its connection limit' },
  FUL_ERR_DRAINING: { status: 503, source: 'internal', retry: 'no', message: 'server is shutting down' },
  FUL_ERR_CONNECT_FAILED: { status: 502, source: 'backend', retry: 'yes', message: 'could not connect to the backend' },
  FUL_ERR_DNS_FAILED: { status: 502, source: 'backend', retry: 'yes', message: "could not resolve the backend's host" },
  FUL_ERR_CONNECT_TIMEOUT: { status: 504, source: 'backend', retry: 'yes', message: 'timed out connecting to the backend' },
  FUL_ERR_BACKEND_RESET: { status: 502, source: 'backend', retry: 'if-reused', message: 'the backend closed the connection' },
  FUL_ERR_RESPONSE_TIMEOUT: { status: 504, source: 'backend', retry: 'no', message: 'the backend did not answer in time' },
  FUL_ERR_REQUEST_TIMEOUT: { status: 504, source: 'backend', retry: 'no', message: 'the request took too long' },
  FUL_ERR_BAD_RESPONSE: { status: 502, source: 'backend', retry: 'no', message: 'the backend sent an invalid response' },
  FUL_ERR_UPGRADE_FAILED: { status: 502, source: 'backend', retry: 'no', message: 'the backend refused the upgrade' },
  FUL_ERR_INTERNAL: { status: 500, source: 'internal', retry: 'no', message: 'internal error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export class FulcrumError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly source: ErrorSource;
  readonly retry: RetryRule;
  /** For backend errors: whether the connection had carried earlier requests (see RetryRule 'if-reused'). */
  readonly reused: boolean;

  constructor(code: ErrorCode, options?: { cause?: unknown; message?: string; reused?: boolean }) {
    const spec: ErrorSpec = ERRORS[code];
    super(options?.message ?? spec.message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FulcrumError';
    this.code = code;
    this.status = spec.status;
    this.source = spec.source;
    this.retry = spec.retry;
    this.reused = options?.reused ?? false;
  }
}

/** getaddrinfo's failures as Node reports them: no such name, a resolver that failed or timed out. */
const DNS_FAILURES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME']);

/**
 * A connection to a backend could not be opened: a name that does not resolve has its own code (an operator's
 * typo or a resolver outage reads differently from a refused port); anything else is a connect failure.
 */
export function connectFailure(cause: unknown): FulcrumError {
  return new FulcrumError(isDnsFailure(cause) ? 'FUL_ERR_DNS_FAILED' : 'FUL_ERR_CONNECT_FAILED', { cause });
}

function isDnsFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && DNS_FAILURES.has(code);
}
