// /app on the api service: the staff dashboard built from web/ (web/dist), with the SPA fallback, its
// runtime settings at /app/config.json, and a clear 503 page when nobody has built it yet.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express, { Router, type Response } from 'express';
import { variables } from '../../shared/config';

/** Where `npm run build:web` writes the dashboard. */
export const WEB_DIST = resolve(__dirname, '../../web/dist');

export interface WebAppOptions {
  /** The built dashboard (default web/dist). */
  distDir?: string;
  /** Base URL of the Temporal Web UI, for links to a lead's run (TEMPORAL_UI_URL). */
  temporalUiUrl?: string;
  temporalNamespace: string;
}

// The bundle is same-origin script only; React's style attributes need inline styles; the API is same origin.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>leadrelay dashboard not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>The dashboard is not built yet</h1>
<p>This api serves the staff dashboard from <code>web/dist</code>, which does not exist on this server.</p>
<p>Build it with <code>npm run build:web</code> (or start everything with <code>npm start</code>, which builds it
when it is missing or stale), then reload this page.</p>
<p>The API itself is up: see <a href="/docs">/docs</a>.</p>
</body></html>
`;

function temporalUiUrl(given: string | undefined): string {
  // Given by the caller (ApiDeps.temporalUiUrl), else read from the environment with the schema that start-up
  // validation uses, so the api's own config decides either way.
  return (given ?? (variables.TEMPORAL_UI_URL.schema.parse(process.env.TEMPORAL_UI_URL) as string)).replace(
    /\/+$/,
    '',
  );
}

export function webAppRouter(options: WebAppOptions): Router {
  const dist = options.distDir ?? WEB_DIST;
  const index = join(dist, 'index.html');
  const settings = {
    temporal_ui_url: temporalUiUrl(options.temporalUiUrl),
    temporal_namespace: options.temporalNamespace,
    api_base: '/api/v1',
  };
  const router = Router();

  const sendIndex = (res: Response) => {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    // Always revalidated, so a new build is picked up at once; the hashed assets it names are cached for good.
    res.setHeader('Cache-Control', 'no-cache');
    if (!existsSync(index)) {
      res.status(503).type('html').send(NOT_BUILT);
      return;
    }
    res.sendFile(index);
  };

  router.get('/', (_req, res) => sendIndex(res));
  router.get('/config.json', (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.json(settings);
  });
  router.use(
    '/assets',
    express.static(join(dist, 'assets'), {
      index: false,
      fallthrough: true,
      immutable: true,
      maxAge: '365d',
    }),
  );
  router.use(express.static(dist, { index: false, fallthrough: true, maxAge: 0 }));
  // Client-side routes (/app/leads/<id>, …) get the page; a missing file (a path with an extension) stays a 404.
  router.use((req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || /\.[A-Za-z0-9]+$/.test(req.path)) return next();
    sendIndex(res);
  });
  return router;
}
