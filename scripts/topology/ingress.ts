// The production Ingress and Services in front of the replicas, for `npm run topology`: one public address
// (PUBLIC_BASE_URL) that sends /webhooks to the ingest replicas and everything else to the api replicas, round robin.
// Like a load balancer it tries the next replica when one refuses the connection (it is down); a request already
// sent to a replica that dies is answered 502, which partners and clients retry.
import {
  request as httpRequest,
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Ingress {
  url: string;
  /** Replicas by pool; the run adds and removes them as it starts and kills processes. */
  pools: { api: string[]; ingest: string[] };
  /** Answers per pool and status (or `502`), for the report. */
  answers: Record<'api' | 'ingest', Record<string, number>>;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

export async function startIngress(): Promise<Ingress> {
  const pools: Ingress['pools'] = { api: [], ingest: [] };
  const answers: Ingress['answers'] = { api: {}, ingest: {} };
  const next = { api: 0, ingest: 0 };
  const count = (pool: 'api' | 'ingest', label: string) =>
    (answers[pool][label] = (answers[pool][label] ?? 0) + 1);

  const forward = (
    pool: 'api' | 'ingest',
    req: IncomingMessage,
    body: Buffer,
    res: ServerResponse,
    tried: number,
  ): void => {
    const backends = pools[pool];
    if (backends.length === 0 || tried >= backends.length) {
      count(pool, '502');
      res.writeHead(502, { 'content-type': 'text/plain' }).end('no replica reachable');
      return;
    }
    const backend = backends[next[pool]++ % backends.length]!;
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())),
    );
    const upstream = httpRequest(`${backend}${req.url ?? '/'}`, {
      method: req.method,
      headers: { ...headers, 'content-length': String(body.length) },
    });
    upstream.once('response', (answer) => {
      count(pool, String(answer.statusCode));
      const passed = Object.fromEntries(
        Object.entries(answer.headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())),
      );
      res.writeHead(answer.statusCode ?? 502, passed);
      answer.pipe(res);
      answer.once('error', () => res.destroy());
    });
    upstream.once('error', (error: NodeJS.ErrnoException) => {
      // Refused: nothing listens there (a replica down); nothing was sent, so another replica may take it.
      if (error.code === 'ECONNREFUSED') return forward(pool, req, body, res, tried + 1);
      count(pool, '502');
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(error.message);
      else res.destroy();
    });
    upstream.end(body);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () =>
      forward(req.url?.startsWith('/webhooks/') ? 'ingest' : 'api', req, Buffer.concat(chunks), res, 0),
    );
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pools,
    answers,
    close: () =>
      new Promise((closed) => {
        server.close(() => closed());
        server.closeAllConnections();
      }),
  };
}
