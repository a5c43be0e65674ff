// /openapi.json against the app itself: every documented route answers from its own handler (routes are only
// mounted through the definitions the document is built from), every documented permission enforced,
// credentials required, /docs self-contained.
import { randomUUID } from 'node:crypto';
import { CONVERSION_TYPES } from '../../shared/conversions';
import { ADMIN_TOKEN, call, registerWorkspace, startHarness, type Harness } from '../support/harness';

let harness: Harness;
let spec: any;

interface DocumentedOperation {
  method: string;
  path: string;
  op: any;
}

let operations: DocumentedOperation[];

beforeAll(async () => {
  harness = await startHarness();
  const answer = await call(`${harness.apiUrl}/openapi.json`, 'GET', undefined);
  expect(answer.status).toBe(200);
  spec = answer.body;
  operations = Object.entries(spec.paths).flatMap(([path, methods]: [string, any]) =>
    Object.entries(methods).map(([method, op]) => ({ method, path, op })),
  );
});
afterAll(async () => {
  await harness?.stop();
});

/** A concrete URL for a documented path: every {param} becomes a fresh UUID. */
const concrete = (path: string) => `${harness.apiUrl}${path.replace(/\{[^}]+\}/g, () => randomUUID())}`;

/** Status and JSON error of a call; a stream (the live feed) is left after its headers. */
async function answer(url: string, method: string, token: string | undefined) {
  const controller = new AbortController();
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    // Valid JSON that no body schema accepts: a route with a body answers 400 from its own parsing.
    body: method === 'GET' ? undefined : '[]',
    signal: controller.signal,
  });
  const json = response.headers.get('content-type')?.startsWith('application/json');
  const body = json ? ((await response.json()) as { error?: { message?: string } }) : undefined;
  controller.abort();
  return { status: response.status, message: body?.error?.message ?? '' };
}

test('every documented route is mounted: called as its caller, it answers from its own handler', async () => {
  expect(operations.length).toBeGreaterThan(30);
  const adminKey = (await registerWorkspace(harness.apiUrl)).apiKey;
  const failures: string[] = [];
  for (const { method, path, op } of operations) {
    const schemes = (op.security as Record<string, unknown>[]).flatMap((s) => Object.keys(s));
    const token = schemes.length === 0 ? undefined : schemes.includes('adminToken') ? ADMIN_TOKEN : adminKey;
    const { status, message } = await answer(concrete(path), method.toUpperCase(), token);
    // A path nothing mounts ends in the 404 of no route, or in the API-key check of unknown /api/v1 paths.
    if ((status === 404 && message.startsWith('no route')) || status === 401 || status === 403) {
      failures.push(`${method} ${path}: ${status} ${message}`);
    }
  }
  expect(failures).toEqual([]);
  // Spot checks of the routes this document must never lose.
  const documented = operations.map((o) => `${o.method} ${o.path}`);
  for (const route of [
    'post /api/v1/workspaces',
    'put /api/v1/leads/{id}/status',
    'post /api/v1/conversions',
    'get /api/v1/conversions/analytics',
    'patch /api/v1/contacts/{id}/conversion',
    'get /api/v1/analytics/funnel',
    'get /api/v1/workspaces/{id}/activity',
    'get /healthz',
    'post /codec/decode',
    'post /api/v1/imports',
    'get /api/v1/imports/template.csv',
    'get /api/v1/imports/{id}',
    'get /api/v1/imports/{id}/errors.csv',
    'post /api/v1/sequences',
    'get /api/v1/properties/{id}/tour-slots',
    'post /api/v1/leads/{id}/tour',
  ]) {
    expect(documented).toContain(route);
  }
  // An import takes its file as the raw body, or a backfill as JSON: both documented.
  const importBody = spec.paths['/api/v1/imports'].post.requestBody.content;
  expect(Object.keys(importBody).sort()).toEqual(['application/json', 'text/csv']);
});

test('the document is OpenAPI 3.1 built from the zod schemas, with every $ref resolvable', () => {
  expect(spec.openapi).toBe('3.1.0');
  const refs = JSON.stringify(spec).match(/"\$ref":"[^"]+"/g) ?? [];
  for (const ref of refs) {
    const name = ref.split('/').pop()!.replace('"', '');
    expect(ref).toContain('#/components/schemas/');
    expect(spec.components.schemas).toHaveProperty(name);
  }
  const resolve = (schema: any) =>
    schema.$ref ? spec.components.schemas[schema.$ref.split('/').pop()] : schema;
  const body = resolve(spec.paths['/api/v1/conversions'].post.requestBody.content['application/json'].schema);
  expect(body.properties.conversion_type.enum).toEqual([...CONVERSION_TYPES]);
  expect(body.required).toEqual(expect.arrayContaining(['contact_id', 'conversion_type']));
  const query = spec.paths['/api/v1/conversions'].get.parameters.map((p: any) => p.name);
  expect(query).toEqual(
    expect.arrayContaining([
      'workspace_id',
      'contact_id',
      'conversion_type',
      'min_value',
      'from_date',
      'to_date',
    ]),
  );
  const funnel = spec.paths['/api/v1/analytics/funnel'].get.responses['200'].content;
  expect(Object.keys(funnel).sort()).toEqual(['application/json', 'text/csv']);
  for (const { op } of operations) expect(Object.keys(op.responses).length).toBeGreaterThan(0);
});

test('every documented permission is enforced: a key without it gets 403', async () => {
  const guarded = operations.filter((o) => o.op['x-permission']);
  expect(guarded.length).toBeGreaterThan(20);
  const all = ['read', 'update', 'convert', 'admin'];
  const keys: Record<string, string> = {};
  for (const permission of all) {
    // admin implies every permission, so a key missing any one of them lacks admin too.
    const granted = all.filter((p) => p !== permission && p !== 'admin');
    keys[permission] = (await registerWorkspace(harness.apiUrl, { permissions: granted })).apiKey;
  }
  const failures: string[] = [];
  for (const { method, path, op } of guarded) {
    const permission = op['x-permission'] as string;
    const answer = await call(
      concrete(path),
      method.toUpperCase(),
      keys[permission],
      method === 'get' ? undefined : {},
    );
    if (answer.status !== 403 || answer.body?.error?.details?.required !== permission) {
      failures.push(`${method} ${path} without ${permission}: ${answer.status}`);
    }
  }
  expect(failures).toEqual([]);
});

test('every route behind an API key answers 401 without one', async () => {
  const failures: string[] = [];
  for (const { method, path, op } of operations) {
    if (op.security.length === 0) continue;
    const answer = await call(
      concrete(path),
      method.toUpperCase(),
      undefined,
      method === 'get' ? undefined : {},
    );
    if (answer.status !== 401) failures.push(`${method} ${path}: ${answer.status}`);
  }
  expect(failures).toEqual([]);
});

test('/docs is one self-contained page that loads nothing from elsewhere', async () => {
  const response = await fetch(`${harness.apiUrl}/docs`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
  const html = await response.text();
  expect(html).toContain("fetch('/openapi.json')");
  expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
  expect(html).not.toMatch(/https?:\/\/(?!example\.com)/);
});
