// What every partner sandbox shares: a request log, scripted faults (429 with Retry-After, 5xx, slow answers,
// down) and a "silently ignore writes" switch, settable in process or over HTTP at /__sandbox/* so a demo,
// the bench or the chaos suite can drive a sandbox running in another process.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Recorder, startSandboxServer, type SandboxServer } from './http';

export interface SandboxRequest {
  method: string;
  /** Path with query string. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** What the sandbox answered. */
  status?: number;
  at: number;
}

/** One scripted answer, used once, before the sandbox's own behaviour. */
export interface SandboxFault {
  /** HTTP status to answer (429, 500, 503…); omit with `delayMs` for a slow but correct answer. */
  status?: number;
  retryAfterSeconds?: number;
  /** Answer body (default: the partner-shaped error of `errorBody`). */
  body?: string;
  /** Wait this long before answering (a slow partner; longer than the client's timeout = a timeout). */
  delayMs?: number;
  /** Only for requests whose path contains this. */
  pathIncludes?: string;
}

export interface PartnerSandbox extends SandboxServer {
  requests: Recorder<SandboxRequest>;
  /** Scripted answers, consumed in order by matching requests. */
  faults: SandboxFault[];
  /** While true every request answers 503 (a partner that is down). */
  down: boolean;
  /** While true writes answer 2xx but change nothing (read-after-write must notice). */
  ignoreWrites: boolean;
}

export interface SandboxHandlerContext {
  sandbox: PartnerSandbox;
  req: IncomingMessage;
  res: ServerResponse;
  body: string;
  url: URL;
}

export interface PartnerSandboxOptions {
  port?: number;
  /** The partner's error body for a status (its own error format). */
  errorBody: (status: number, message: string) => { contentType: string; body: string };
  handle: (context: SandboxHandlerContext) => void | Promise<void>;
}

export function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
    ...headers,
  });
  res.end(text);
}

export async function startPartnerSandbox(options: PartnerSandboxOptions): Promise<PartnerSandbox> {
  const requests = new Recorder<SandboxRequest>();
  const state = { faults: [] as SandboxFault[], down: false, ignoreWrites: false };
  // The handler runs only for requests, after `sandbox` is assigned below.
  const server = await startSandboxServer(async (req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    if (url.pathname.startsWith('/__sandbox/')) return control(sandbox, url, req, res, body);
    const record: SandboxRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body,
      at: Date.now(),
    };
    res.on('finish', () => {
      record.status = res.statusCode;
      requests.add(record);
    });
    const faultIndex = sandbox.faults.findIndex(
      (f) => !f.pathIncludes || url.pathname.includes(f.pathIncludes),
    );
    const fault = faultIndex >= 0 ? sandbox.faults.splice(faultIndex, 1)[0] : undefined;
    if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (res.destroyed) return;
    if (sandbox.down) return sendError(options, res, 503, 'service unavailable');
    if (fault?.status) {
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      if (fault.body !== undefined) return send(res, fault.status, fault.body, headers);
      return sendError(options, res, fault.status, `scripted ${fault.status}`, headers);
    }
    await options.handle({ sandbox, req, res, body, url });
  }, options.port);
  const sandbox: PartnerSandbox = Object.assign(server, {
    requests,
    get faults() {
      return state.faults;
    },
    set faults(value: SandboxFault[]) {
      state.faults = value;
    },
    get down() {
      return state.down;
    },
    set down(value: boolean) {
      state.down = value;
    },
    get ignoreWrites() {
      return state.ignoreWrites;
    },
    set ignoreWrites(value: boolean) {
      state.ignoreWrites = value;
    },
  });
  return sandbox;
}

function sendError(
  options: PartnerSandboxOptions,
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  const error = options.errorBody(status, message);
  res.writeHead(status, { 'content-type': error.contentType, ...headers });
  res.end(error.body);
}

/**
 * The control surface: `POST /__sandbox/faults` (JSON array of faults, appended), `POST /__sandbox/down`
 * and `/__sandbox/up`, `POST /__sandbox/ignore-writes?on=true|false`, `GET /__sandbox/requests`,
 * `POST /__sandbox/reset`.
 */
function control(sandbox: PartnerSandbox, url: URL, req: IncomingMessage, res: ServerResponse, body: string) {
  const path = url.pathname.slice('/__sandbox/'.length);
  if (req.method === 'GET' && path === 'requests') return send(res, 200, sandbox.requests.items);
  if (req.method !== 'POST') return send(res, 405, { error: 'POST' });
  switch (path) {
    case 'faults': {
      const faults = JSON.parse(body || '[]') as SandboxFault[];
      sandbox.faults.push(...(Array.isArray(faults) ? faults : [faults]));
      return send(res, 200, { faults: sandbox.faults.length });
    }
    case 'down':
      sandbox.down = true;
      return send(res, 200, { down: true });
    case 'up':
      sandbox.down = false;
      return send(res, 200, { down: false });
    case 'ignore-writes':
      sandbox.ignoreWrites = url.searchParams.get('on') !== 'false';
      return send(res, 200, { ignore_writes: sandbox.ignoreWrites });
    case 'reset':
      sandbox.faults.length = 0;
      sandbox.down = false;
      sandbox.ignoreWrites = false;
      return send(res, 200, { reset: true });
    default:
      return send(res, 404, { error: `unknown control ${path}` });
  }
}
