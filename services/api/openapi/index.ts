// /openapi.json and /docs on the api service: the document describes every route the app mounted.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { endpoint, type Endpoints } from '../../common/endpoints';
import { buildDocument } from './document';

/** One self-contained page (inline CSS and JS, no CDN) that reads /openapi.json. */
const DOCS_PAGE = readFileSync(join(__dirname, 'docs.html'), 'utf8');

function packageVersion(): string {
  const file = join(__dirname, '../../../package.json');
  if (!existsSync(file)) return '0.0.0';
  return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? '0.0.0';
}

export function openApiEndpoints(endpoints: Endpoints) {
  let document: Record<string, unknown> | undefined;
  return [
    endpoint({
      method: 'get',
      path: '/openapi.json',
      tag: 'service',
      summary: 'This document',
      auth: 'none',
      responses: { 200: { description: 'OpenAPI 3.1 document', schema: z.object({}).loose() } },
      // Built at the first request, when every route is mounted.
      handler: () => (document ??= buildDocument(endpoints.list(), { version: packageVersion() })),
    }),
    endpoint({
      method: 'get',
      path: '/docs',
      tag: 'service',
      summary: 'Interactive API documentation',
      auth: 'none',
      responses: { 200: { description: 'HTML page', html: true } },
      handler({ res }) {
        // Everything the page needs is inline; it fetches only /openapi.json and the API itself.
        res
          .type('html')
          .setHeader(
            'Content-Security-Policy',
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
          )
          .send(DOCS_PAGE);
      },
    }),
  ];
}
