// /openapi.json and /docs on the api service, and the list of routes an Express app really mounts.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Router, type Express } from 'express';
import { buildDocument, type Method } from './document';
import { DOCS_PAGE } from './docsPage';
import { OPERATIONS } from './operations';

function packageVersion(): string {
  const file = join(__dirname, '../../../package.json');
  if (!existsSync(file)) return '0.0.0';
  return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? '0.0.0';
}

let document: Record<string, unknown> | undefined;

/** The OpenAPI document, built once per process. */
export function openApiDocument(): Record<string, unknown> {
  document ??= buildDocument(OPERATIONS, { version: packageVersion() });
  return document;
}

export function openApiRouter(): Router {
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  router.get('/docs', (_req, res) => {
    // Everything the page needs is inline; it fetches only /openapi.json and the API itself.
    res
      .type('html')
      .setHeader(
        'Content-Security-Policy',
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
      )
      .send(DOCS_PAGE);
  });
  return router;
}

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: string | string[];
}

/** Every (method, path) an Express 5 app mounts, nested routers included, e.g. `get /api/v1/leads/:id`. */
export function mountedRoutes(app: Express): { method: Method; path: string }[] {
  const found: { method: Method; path: string }[] = [];
  const join = (prefix: string, path: string) => `${prefix}${path === '/' ? '' : path}` || '/';
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const path of paths) {
          for (const [method, on] of Object.entries(layer.route.methods)) {
            if (on && method !== '_all') found.push({ method: method as Method, path: join(prefix, path) });
          }
        }
      } else if (layer.handle?.stack) {
        const raw = Array.isArray(layer.rawPath) ? layer.rawPath[0] : layer.rawPath;
        walk(layer.handle.stack, typeof raw === 'string' && raw !== '/' ? join(prefix, raw) : prefix);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return found;
}
