// Payload encryption on the real stack: a lead's journey started through the api leaves only ciphertext in
// Temporal (as the Temporal CLI shows it), the api's codec endpoint decrypts it for operators (bearer token or
// session cookie, CORS for the Temporal UI), the CLI reads plaintext through that endpoint, and the encrypted
// history replays with the codec.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { defaultPayloadConverter } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { temporalCli } from '../../infra/local/binaries';
import { ENCRYPTED_ENCODING, encryptedDataConverter, payloadFromJson } from '../../shared/codec';
import { KeyRing } from '../../shared/crypto';
import { testStack } from '../setup/stack';
import {
  ADMIN_TOKEN,
  call,
  dataConverter,
  registerWorkspace,
  startHarness,
  type Harness,
} from '../support/harness';

const run = promisify(execFile);
const UI_ORIGIN = 'http://localhost:8233';
const ENCRYPTED = Buffer.from(ENCRYPTED_ENCODING).toString('base64');

let harness: Harness;
let workflowId: string;
const email = `augusta.${randomUUID().slice(0, 8)}@example.com`;
const reason = `Called Augusta Lovelace back at ${email}, tour next week`;

beforeAll(async () => {
  harness = await startHarness();
  const { apiKey } = await registerWorkspace(harness.apiUrl);
  const lead = await call(`${harness.apiUrl}/api/v1/leads`, 'POST', apiKey, {
    source: 'website',
    first_name: 'Augusta',
    last_name: 'Lovelace',
    email,
  });
  expect(lead.status).toBe(201);
  workflowId = lead.body.workflow_id;
  // Staff notes are free text: here the prospect's name and email travel in the update's payload.
  const changed = await call(`${harness.apiUrl}/api/v1/leads/${lead.body.id}/status`, 'PUT', apiKey, {
    new_status: 'contacted',
    status_reason: reason,
  });
  expect(changed.status).toBe(200);
});
afterAll(async () => {
  await harness?.stop();
});

/** `temporal workflow show --output json` against the test stack's dev server, with extra flags. */
const workflowShow = (...flags: string[]) => workflowShowOf(workflowId, ...flags);

async function workflowShowOf(id: string, ...flags: string[]): Promise<string> {
  const { stdout } = await run(
    temporalCli(),
    [
      'workflow',
      'show',
      '--workflow-id',
      id,
      '--address',
      testStack().temporalAddress,
      '--namespace',
      'default',
      '--output',
      'json',
      '--disable-config-file',
      '--disable-config-env',
      ...flags,
    ],
    { env: { PATH: process.env.PATH, HOME: process.env.HOME }, maxBuffer: 32 * 1024 * 1024 },
  );
  return stdout;
}

interface Found {
  path: string;
  payload: { metadata?: Record<string, string>; data?: string };
}

/** Every payload in the CLI's JSON history (objects with base64 `metadata.encoding`), with where it sits. */
function payloadsIn(value: unknown, path = ''): Found[] {
  if (!value || typeof value !== 'object') return [];
  const object = value as Record<string, unknown>;
  const metadata = object.metadata as Record<string, unknown> | undefined;
  if (metadata && typeof metadata.encoding === 'string')
    return [{ path, payload: object as Found['payload'] }];
  return Object.entries(object).flatMap(([key, child]) => payloadsIn(child, `${path}.${key}`));
}

/**
 * Payloads our codec handles. Not search attributes (never encoded; they hold no personal data), nor the
 * patch markers the SDK core writes itself (patch ids of our code).
 */
const codecPayloads = (history: unknown) =>
  payloadsIn(history).filter((found) => !/searchAttributes|patch-data/.test(found.path));

/** The text of every payload's data. */
const texts = (history: unknown) =>
  payloadsIn(history).map((found) => Buffer.from(found.payload.data ?? '', 'base64').toString());

const decode = (
  payloads: unknown[],
  headers: Record<string, string> = {},
  /** null: no Authorization header. */
  token: string | null = ADMIN_TOKEN,
) =>
  call(
    `${harness.apiUrl}/codec/decode`,
    'POST',
    token ?? undefined,
    { payloads },
    {
      origin: UI_ORIGIN,
      'x-namespace': 'default',
      ...headers,
    },
  );

test('without the codec the Temporal CLI shows only ciphertext: no name, no email', async () => {
  const shown = await workflowShow();
  expect(shown).not.toContain(email);
  expect(shown).not.toContain('Augusta');
  expect(shown).not.toContain('Lovelace');
  const found = codecPayloads(JSON.parse(shown));
  // Start input, signal, update input and result, activity inputs and results at the least.
  expect(found.length).toBeGreaterThan(5);
  const plain = found.filter((f) => f.payload.metadata?.encoding !== ENCRYPTED).map((f) => f.path);
  expect(plain).toEqual([]);
  for (const { payload } of found) {
    expect(Buffer.from(payload.metadata!['encryption-key-id']!, 'base64').toString()).toBe('test1');
  }
});

test("a failure's message and stack are encrypted too: with the codec readable, without it not", async () => {
  const leadId = randomUUID();
  const workspaceId = `ws-${randomUUID().slice(0, 8)}`;
  const handle = await harness.client.workflow.start('leadJourney', {
    workflowId: `failure-${randomUUID()}`,
    taskQueue: harness.taskQueue,
    args: [{ workspaceId, leadId }],
  });
  // Through the codec the activity's failure reads as thrown: a lead that does not exist.
  const failure = await handle.result().then(
    () => undefined,
    (error: Error & { cause?: Error & { cause?: Error } }) => error,
  );
  expect(failure?.cause?.cause?.message).toBe(`lead ${leadId} does not exist in workspace ${workspaceId}`);
  const shown = await workflowShowOf(handle.workflowId);
  expect(shown).toContain('Encoded failure');
  expect(shown).not.toContain(leadId);
  expect(shown).not.toContain('does not exist');
  expect(shown).not.toMatch(/activities\/db\/journey/);
});

test('POST /codec/decode with the operator token returns the plaintext, with CORS for the UI', async () => {
  const found = codecPayloads(JSON.parse(await workflowShow()));
  const answer = await decode(found.map((f) => f.payload));
  expect(answer.status).toBe(200);
  expect(answer.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
  expect(answer.headers.get('access-control-allow-credentials')).toBe('true');
  expect(answer.body.payloads).toHaveLength(found.length);
  const values = answer.body.payloads.map((p: any) =>
    defaultPayloadConverter.fromPayload(payloadFromJson(p)),
  );
  expect(JSON.stringify(values)).toContain(reason);
  for (const payload of answer.body.payloads) {
    expect(Buffer.from(payload.metadata.encoding, 'base64').toString()).not.toBe(ENCRYPTED_ENCODING);
  }
});

test('without the operator token the codec answers 401, still with the CORS headers the UI needs to read it', async () => {
  const [first] = codecPayloads(JSON.parse(await workflowShow()));
  const none = await decode([first!.payload], {}, null);
  expect(none.status).toBe(401);
  expect(none.body.error.code).toBe('unauthorized');
  expect(none.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
  const wrong = await decode([first!.payload], {}, 'not-the-admin-token-0000');
  expect(wrong.status).toBe(401);
  expect(JSON.stringify(wrong.body)).not.toContain('Augusta');
  // A workspace API key is not an operator token.
  const { apiKey } = await registerWorkspace(harness.apiUrl, { permissions: ['admin'] });
  expect((await decode([first!.payload], {}, apiKey)).status).toBe(401);
});

test('the preflight is answered for the UI origin only, without credentials', async () => {
  const preflight = (origin: string) =>
    fetch(`${harness.apiUrl}/codec/decode`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace,authorization',
      },
    });
  const ui = await preflight(UI_ORIGIN);
  expect(ui.status).toBe(204);
  expect(ui.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
  expect(ui.headers.get('access-control-allow-credentials')).toBe('true');
  expect(ui.headers.get('access-control-allow-methods')).toContain('POST');
  const allowed = (ui.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/,\s*/);
  expect(allowed).toEqual(expect.arrayContaining(['content-type', 'x-namespace', 'authorization']));
  expect(ui.headers.get('vary')).toContain('Origin');
  // The UI reached as 127.0.0.1 is the same UI.
  const loopback = await preflight('http://127.0.0.1:8233');
  expect(loopback.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8233');
  const other = await preflight('https://evil.example');
  expect(other.headers.get('access-control-allow-origin')).toBeNull();
  const otherPost = await decode([], { origin: 'https://evil.example' });
  expect(otherPost.headers.get('access-control-allow-origin')).toBeNull();
});

test('signing in at /codec sets a session cookie the UI sends with "include credentials"', async () => {
  const page = await fetch(`${harness.apiUrl}/codec`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<form method="post" action="codec/session">');
  const signIn = (token: string) =>
    fetch(`${harness.apiUrl}/codec/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
  const refused = await signIn('not-the-admin-token-0000');
  expect(refused.status).toBe(401);
  expect(refused.headers.get('set-cookie')).toBeNull();
  const signedIn = await signIn(ADMIN_TOKEN);
  expect(signedIn.status).toBe(200);
  const cookie = signedIn.headers.get('set-cookie')!;
  expect(cookie).toMatch(
    /^leadrelay_codec=\d+\.[\w-]+; Path=\/codec; HttpOnly; Max-Age=43200; SameSite=Strict$/,
  );
  expect(cookie).not.toContain(ADMIN_TOKEN);

  const [first] = codecPayloads(JSON.parse(await workflowShow()));
  const session = cookie.split(';')[0]!;
  const withCookie = await decode([first!.payload], { cookie: session }, null);
  expect(withCookie.status).toBe(200);
  const [value, mac] = session.split('=')[1]!.split('.');
  const forged = await decode(
    [first!.payload],
    { cookie: `leadrelay_codec=${Number(value) + 3600}.${mac}` },
    null,
  );
  expect(forged.status).toBe(401);
});

test('POST /codec/encode encrypts what the UI sends; decode gives it back', async () => {
  const plain = {
    metadata: { encoding: Buffer.from('json/plain').toString('base64') },
    data: Buffer.from(JSON.stringify({ email })).toString('base64'),
  };
  const encoded = await call(`${harness.apiUrl}/codec/encode`, 'POST', ADMIN_TOKEN, { payloads: [plain] });
  expect(encoded.status).toBe(200);
  expect(encoded.body.payloads[0].metadata.encoding).toBe(ENCRYPTED);
  expect(Buffer.from(encoded.body.payloads[0].data, 'base64').toString('latin1')).not.toContain(email);
  const decoded = await decode(encoded.body.payloads);
  expect(decoded.body.payloads).toEqual([plain]);
});

test('a payload the keys cannot open is a 400 naming it', async () => {
  const [encrypted] = await encryptedDataConverter(
    KeyRing.parse(KeyRing.generateSpec('test1')),
  ).payloadCodecs![0]!.encode([defaultPayloadConverter.toPayload({ email })]);
  const plain = {
    metadata: { encoding: Buffer.from('json/plain').toString('base64') },
    data: Buffer.from('1').toString('base64'),
  };
  const answer = await decode([
    plain,
    {
      metadata: { encoding: ENCRYPTED, 'encryption-key-id': Buffer.from('test1').toString('base64') },
      data: Buffer.from(encrypted!.data!).toString('base64'),
    },
  ]);
  expect(answer.status).toBe(400);
  expect(answer.body.error.details.fields[0].field).toBe('payloads.1');
  expect(answer.body.error.message).toMatch(/key test1 does not open/);
  const malformed = await decode([{ data: '%%%' }]);
  expect(malformed.status).toBe(400);
  expect(malformed.body.error.details.fields[0].field).toBe('payloads.0.data');
});

test('the Temporal CLI reads plaintext through the codec endpoint with the operator token', async () => {
  const shown = await workflowShow(
    '--codec-endpoint',
    `${harness.apiUrl}/codec`,
    '--codec-auth',
    `Bearer ${ADMIN_TOKEN}`,
  );
  expect(texts(JSON.parse(shown)).join('\n')).toContain(reason);
  await expect(workflowShow('--codec-endpoint', `${harness.apiUrl}/codec`)).rejects.toThrow();
});

test('the encrypted history replays with the codec, and not without it', async () => {
  const history = await harness.client.workflow.getHandle(workflowId).fetchHistory();
  const bundle = { codePath: testStack().workflowBundlePath };
  await Worker.runReplayHistory({ workflowBundle: bundle, dataConverter }, history, workflowId);
  await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, workflowId)).rejects.toThrow();
});
