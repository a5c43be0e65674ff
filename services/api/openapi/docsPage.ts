// The interactive docs page: one self-contained HTML file (inline CSS and JS, no CDN) that reads /openapi.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DOCS_PAGE = readFileSync(join(__dirname, 'docs.html'), 'utf8');
