// The dashboard's only way to the server: the public REST API under /api/v1 with the user's API key.
export interface FieldError {
  field: string;
  message: string;
}

/** An answer that was not 2xx, with the API's `{ error: { code, message, details } }` when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The fields the server named as invalid (`details.fields`). */
  get fields(): FieldError[] {
    const fields = this.details.fields;
    return Array.isArray(fields)
      ? fields.filter((f): f is FieldError => typeof f?.field === 'string' && typeof f?.message === 'string')
      : [];
  }
}

export interface RateLimitState {
  limit: number;
  remaining: number;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | undefined | null | string[]>;
  signal?: AbortSignal;
}

export const API_BASE = '/api/v1';
/**
 * A read refused for a moment (429 with a short Retry-After: the workspace's analytics slots are all taken while a
 * page asks for several reports at once) is asked again after that delay, up to this many times, while the page
 * shows it loading. A long Retry-After (the hourly budget spent) is shown at once.
 */
const BRIEF_REFUSAL_RETRIES = 4;
const BRIEF_REFUSAL_MAX_SECONDS = 10;

/** How long a 429 asks to wait, when it is brief enough to wait for (seconds), else undefined. */
function briefRetryAfter(response: Response): number | undefined {
  const header = response.headers.get('Retry-After');
  if (response.status !== 429 || header === null) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 && seconds <= BRIEF_REFUSAL_MAX_SECONDS
    ? seconds
    : undefined;
}

/** Resolves after `ms`, or rejects as the fetch would when the page aborts the request first. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}
export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** `?a=1&b=x,y` from an object, leaving out empty values. */
export function queryString(query: RequestOptions['query'] = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) {
      if (value.length > 0) params.set(name, value.join(','));
    } else params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

async function errorFrom(response: Response): Promise<ApiError> {
  let body: { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined;
  try {
    body = (await response.json()) as typeof body;
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  const error = body?.error;
  return new ApiError(
    response.status,
    error?.code ?? `http_${response.status}`,
    error?.message ?? `${response.status} ${response.statusText || 'request failed'}`,
    error?.details ?? {},
  );
}

/** A client bound to one API key; `onUnauthorized` ends the session when the key stops working. */
export function createApi(
  key: string,
  hooks: { onUnauthorized?: () => void; onRateLimit?: (state: RateLimitState) => void } = {},
) {
  const send = async (path: string, options: RequestOptions, accept: string): Promise<Response> => {
    for (let attempt = 1; ; attempt++) {
      const response = await sendOnce(path, options, accept);
      const wait = (options.method ?? 'GET') === 'GET' ? briefRetryAfter(response) : undefined;
      if (wait === undefined || attempt > BRIEF_REFUSAL_RETRIES) {
        if (!response.ok) throw await errorFrom(response);
        return response;
      }
      await response.body?.cancel();
      await pause(wait * 1000, options.signal);
    }
  };

  const sendOnce = async (path: string, options: RequestOptions, accept: string): Promise<Response> => {
    const response = await fetch(`${API_BASE}${path}${queryString(options.query)}`, {
      method: options.method ?? 'GET',
      headers: {
        authorization: `Bearer ${key}`,
        // The app's requests are counted apart from the workspace's integrations (docs/dashboard.md).
        'x-leadrelay-client': 'dashboard',
        accept,
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
      signal: options.signal,
    });
    const limit = Number(response.headers.get('RateLimit-Limit'));
    const remaining = Number(response.headers.get('RateLimit-Remaining'));
    if (response.headers.has('RateLimit-Remaining') && Number.isFinite(remaining)) {
      hooks.onRateLimit?.({ limit, remaining });
    }
    if (response.status === 401) hooks.onUnauthorized?.();
    return response;
  };

  // Answers that rarely change (properties, template schemas), shared by pages for a minute: every request
  // counts against the workspace's hourly limit.
  const cache = new Map<string, { at: number; answer: Promise<unknown> }>();

  return {
    key,
    async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
      const response = await send(path, options, 'application/json');
      if (response.status === 204) return undefined as T;
      return (await response.json()) as T;
    },
    get<T>(path: string, query?: RequestOptions['query'], signal?: AbortSignal): Promise<T> {
      return this.request<T>(path, { query, signal });
    },
    /** A GET answered from a short-lived cache when a page asked the same less than `ttlMs` ago. */
    cached<T>(path: string, ttlMs = 60_000): Promise<T> {
      const hit = cache.get(path);
      if (hit && Date.now() - hit.at < ttlMs) return hit.answer as Promise<T>;
      const answer = this.request<T>(path);
      cache.set(path, { at: Date.now(), answer });
      answer.catch(() => cache.delete(path));
      return answer;
    },
    /** A file sent as the raw request body (an import's CSV), answered as JSON. */
    async upload<T>(path: string, file: Blob, query: RequestOptions['query'] = {}): Promise<T> {
      const response = await fetch(`${API_BASE}${path}${queryString(query)}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, accept: 'application/json', 'content-type': 'text/csv' },
        body: file,
      });
      if (response.status === 401) hooks.onUnauthorized?.();
      if (!response.ok) throw await errorFrom(response);
      return (await response.json()) as T;
    },
    /**
     * An export saved as a download (a link cannot carry the Authorization header): CSV by `Accept: text/csv`,
     * an Excel workbook by `?format=xlsx`.
     */
    async download(
      path: string,
      query: RequestOptions['query'],
      filename: string,
      format: 'csv' | 'xlsx' = 'csv',
    ): Promise<void> {
      const response =
        format === 'xlsx'
          ? await send(path, { query: { ...query, format: 'xlsx' } }, XLSX_TYPE)
          : await send(path, { query }, 'text/csv');
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement('a');
      link.href = url;
      link.download = filename;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    },
  };
}

export type Api = ReturnType<typeof createApi>;
