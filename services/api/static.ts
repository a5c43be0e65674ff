// /app on the api service: the staff dashboard built from web/ (web/dist), with the SPA fallback, its
// runtime settings at /app/config.json, and a clear 503 page when nobody has built it yet.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express, { Router, type Response } from 'express';
import { z } from 'zod';
import { variables } from '../../shared/config';
import { endpoint } from '../common/endpoints';

/** Where `npm run build:web` writes the dashboard. */
const WEB_DIST = resolve(__dirname, '../../web/dist');

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

/** The dashboard's page and settings: documented routes. Its files are served by `webAppFiles`. */
export function webAppEndpoints(options: WebAppOptions) {
  const settings = {
    temporal_ui_url: temporalUiUrl(options.temporalUiUrl),
    temporal_namespace: options.temporalNamespace,
    api_base: '/api/v1',
  };
  return [
    endpoint({
      method: 'get',
      path: '/app',
      tag: 'dashboard',
      summary: 'The staff dashboard (single-page app built from web/)',
      description:
        'Static files under /app; any other /app/… path without a file extension answers the same page (client-side routes). The page calls this API with the API key the user logs in with. Answers 503 with instructions when the app has not been built (`npm run build:web`).',
      auth: 'none',
      responses: {
        200: { description: 'HTML page', html: true },
        503: { description: 'not built yet: how to build it', html: true },
      },
      handler: ({ res }) => sendIndex(res, options.distDir ?? WEB_DIST),
    }),
    endpoint({
      method: 'get',
      path: '/app/config.json',
      tag: 'dashboard',
      summary: 'Runtime settings of the dashboard',
      description:
        'Where the Temporal Web UI is (TEMPORAL_UI_URL) and the namespace, for links to a lead’s run: `<temporal_ui_url>/namespaces/<namespace>/workflows/<url-encoded workflow_id>`.',
      auth: 'none',
      responses: {
        200: {
          description: 'settings',
          schema: z.object({
            temporal_ui_url: z.string(),
            temporal_namespace: z.string(),
            api_base: z.string(),
          }),
        },
      },
      handler({ res }) {
        res.setHeader('Cache-Control', 'no-cache');
        return settings;
      },
    }),
  ];
}

/** Resolves once the page (or the 503 saying it is not built) is sent. */
function sendIndex(res: Response, dist: string): Promise<void> {
  const index = join(dist, 'index.html');
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  // Always revalidated, so a new build is picked up at once; the hashed assets it names are cached for good.
  res.setHeader('Cache-Control', 'no-cache');
  if (!existsSync(index)) {
    res.status(503).type('html').send(NOT_BUILT);
    return Promise.resolve();
  }
  return new Promise((resolveSent, reject) => {
    // An error after the headers (the browser went away) has no one left to answer.
    res.sendFile(index, (error) => (error && !res.headersSent ? reject(error) : resolveSent()));
  });
}

/** The dashboard's files under /app, and its page for client-side routes (/app/leads/<id>, …). */
export function webAppFiles(distDir = WEB_DIST): Router {
  const router = Router();
  router.use(
    '/assets',
    express.static(join(distDir, 'assets'), {
      index: false,
      fallthrough: true,
      immutable: true,
      maxAge: '365d',
    }),
  );
  router.use(express.static(distDir, { index: false, fallthrough: true, maxAge: 0 }));
  // A missing file (a path with an extension) stays a 404.
  router.use((req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || /\.[A-Za-z0-9]+$/.test(req.path)) return next();
    sendIndex(res, distDir).catch(next);
  });
  return router;
}
