// The egress guard over the real api and activities: every URL a workspace configures is refused in every
// private spelling (422 egress_refused naming the field), and a destination refused only when connected to
// (a name resolving to a loopback address outside the allow-list, an allow-list narrowed after saving) fails
// the connection test, the webhook delivery and the Slack send for good, with no request reaching the listener.
// Only loopback is ever connected to: this file allows 127.0.0.1 alone and aims at 127.0.0.2. Also bounded
// work: answers cut at their cap, statement timeouts on the pools.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { egressFetch, egressRefusalOf } from '../../activities/egress';
import { DeliveryError } from '../../activities/notify/channel';
import { createSlackChannel } from '../../activities/notify/slack';
import { PartnerError, partnerRequest } from '../../activities/partners/http';
import { attemptWebhookDelivery } from '../../activities/webhooks/deliver';
import { analyticsQuery } from '../../data/analytics';
import { credentialsContext, loadIntegrationSecrets } from '../../data/integrations';
import { resealSecrets } from '../../data/keyRotation';
import { ANALYTICS_STATEMENT_TIMEOUT_MS, createPool, STATEMENT_TIMEOUT_MS } from '../../data/pool';
import { KeyRing } from '../../shared/crypto';
import { parseEgressAllow } from '../../shared/egress';
import { testStack } from '../setup/stack';
import { call, ENCRYPTION_KEYS, registerWorkspace, startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';

const ONLY_127_0_0_1 = '127.0.0.1/32';
process.env.LEADRELAY_EGRESS_ALLOW = ONLY_127_0_0_1;

let harness: Harness;
let key: string;
/** Listens on 127.0.0.2 (outside the allow-list) and on 127.0.0.1 (inside): counts what reaches each. */
let refusedServer: Server;
let allowedServer: Server;
let refusedPort: number;
let allowedPort: number;
const reached = { refused: 0, allowed: 0 };

const api = (path: string) => `${harness.apiUrl}/api/v1${path}`;

function listen(host: string, onRequest: () => void, answer = 200): Promise<Server> {
  const server = createServer((req, res) => {
    onRequest();
    req.resume();
    if (answer === 302) res.writeHead(302, { location: `http://127.0.0.2:${refusedPort}/` }).end();
    else res.writeHead(answer, { 'content-type': 'application/json' }).end('{}');
  });
  return new Promise((resolve) => server.listen(0, host, () => resolve(server)));
}

beforeAll(async () => {
  harness = await startHarness();
  ({ apiKey: key } = await registerWorkspace(harness.apiUrl));
  refusedServer = await listen('127.0.0.2', () => (reached.refused += 1));
  refusedPort = (refusedServer.address() as AddressInfo).port;
  allowedServer = await listen('127.0.0.1', () => (reached.allowed += 1), 302);
  allowedPort = (allowedServer.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => refusedServer?.close(resolve));
  await new Promise((resolve) => allowedServer?.close(resolve));
  await harness?.stop();
});

afterEach(() => {
  process.env.LEADRELAY_EGRESS_ALLOW = ONLY_127_0_0_1;
});

/** Every private spelling a workspace might try (127.0.0.1 itself is allowed in this file). */
const REFUSED = [
  'http://127.0.0.2/',
  'http://2130706434/',
  'http://0x7f000002/',
  'http://127.2/',
  'http://localhost:8081/probe#',
  'http://10.0.0.1/',
  'http://192.168.0.10/',
  'http://172.16.0.1/',
  'http://169.254.169.254/latest/meta-data/',
  'http://100.64.0.1/',
  'http://0.0.0.0/',
  'http://224.0.0.1/',
  'http://240.0.0.1/',
  'http://[::1]/',
  'http://[fd00::1]/',
  'http://[fe80::1]/',
  'http://[::ffff:127.0.0.2]/',
  'http://[::ffff:a9fe:a9fe]/',
];

function expectRefused(answer: { status: number; body: any }, field: string) {
  expect({ status: answer.status, code: answer.body?.error?.code }).toEqual({
    status: 422,
    code: 'egress_refused',
  });
  expect(answer.body.error.details).toMatchObject({ field, fields: [expect.objectContaining({ field })] });
}

const hubspot = (base_url: string) => ({
  partner: 'hubspot',
  name: 'HubSpot',
  config: { base_url },
  credentials: { client_secret: 'hubspot-client-secret-1', access_token: 'token-1' },
});

describe('configuration time: 422 egress_refused naming the field', () => {
  let integrationId: string;
  let endpointId: string;
  let preferenceId: string;

  beforeAll(async () => {
    const integration = await call(
      api('/integrations'),
      'POST',
      key,
      hubspot(`http://127.0.0.1:${allowedPort}`),
    );
    expect(integration.status).toBe(201);
    integrationId = integration.body.id ?? integration.body.integration?.id;
    const endpoint = await call(api('/webhook-endpoints'), 'POST', key, {
      name: 'crm',
      url: `http://127.0.0.1:${allowedPort}/hook`,
      events: ['lead.created'],
    });
    expect(endpoint.status).toBe(201);
    endpointId = endpoint.body.id;
    const preference = await call(api('/notification-preferences'), 'POST', key, {
      property_id: null,
      status_type: 'new',
      notification_method: 'slack',
      recipients: ['default'],
    });
    expect(preference.status).toBe(201);
    preferenceId = preference.body.id;
  });

  test.each(REFUSED)('%s in every URL field', async (url) => {
    expectRefused(await call(api('/integrations'), 'POST', key, hubspot(url)), 'config.base_url');
    expectRefused(await call(api('/integrations/test'), 'POST', key, hubspot(url)), 'config.base_url');
    expectRefused(
      await call(api(`/integrations/${integrationId}`), 'PATCH', key, {
        config: { base_url: url },
        credentials: { client_secret: 'hubspot-client-secret-1', access_token: 'token-1' },
      }),
      'config.base_url',
    );
    expectRefused(
      await call(api('/webhook-endpoints'), 'POST', key, { name: 'x', url, events: ['lead.created'] }),
      'url',
    );
    expectRefused(await call(api(`/webhook-endpoints/${endpointId}`), 'PATCH', key, { url }), 'url');
    expectRefused(
      await call(api('/notification-preferences'), 'POST', key, {
        property_id: null,
        status_type: 'new',
        notification_method: 'slack',
        recipients: ['default', url],
      }),
      'recipients.1',
    );
    expectRefused(
      await call(api(`/notification-preferences/${preferenceId}`), 'PATCH', key, { recipients: [url] }),
      'recipients.0',
    );
    expectRefused(
      await call(api('/workflow-rules'), 'POST', key, {
        property_id: null,
        trigger_status: 'contacted',
        actions: [{ type: 'send_notification', config: { channel: 'slack', recipients: [url] } }],
      }),
      'actions.0.config.recipients.0',
    );
    expect(reached.refused).toBe(0);
  });
});

describe('send time: decided on the address connected to', () => {
  const names: Record<string, string> = { 'partner.test': '127.0.0.1', 'rebound.test': '127.0.0.2' };
  const guarded = egressFetch({
    policy: () => parseEgressAllow(ONLY_127_0_0_1),
    resolve: (hostname, _options, callback) =>
      names[hostname]
        ? callback(null, [{ address: names[hostname]!, family: 4 }])
        : callback(Object.assign(new Error(`no test name ${hostname}`), { code: 'ENOTFOUND' }), []),
  });

  test('a name resolving to a refused address is refused before any request; an allowed one is reached', async () => {
    const before = { ...reached };
    const refused = await guarded(`http://rebound.test:${refusedPort}/`).catch((error: unknown) => error);
    expect(egressRefusalOf(refused)?.message).toMatch(/rebound\.test.*127\.0\.0\.2, a loopback address/);
    const literal = await guarded(`http://127.0.0.2:${refusedPort}/`).catch((error: unknown) => error);
    expect(egressRefusalOf(literal)?.reason).toBe('a loopback address');
    expect(reached.refused).toBe(before.refused);
    // The allowed listener answers 302 towards the refused one: the redirect is the answer, never followed.
    const answer = await guarded(`http://partner.test:${allowedPort}/`);
    expect(answer.status).toBe(302);
    expect(reached).toEqual({ refused: before.refused, allowed: before.allowed + 1 });
  });

  test('a name checked at an allowed address that connects to a refused one is cut before any request', async () => {
    // DNS rebinding between the check and the connection: the resolver's answer reads 127.0.0.1 when the lookup
    // judges it and 127.0.0.2 when the socket connects. Only the check on the connected address can catch it.
    let reads = 0;
    const rebound = {
      family: 4,
      get address() {
        reads += 1;
        return reads === 1 ? '127.0.0.1' : '127.0.0.2';
      },
    };
    const rebinding = egressFetch({
      policy: () => parseEgressAllow(ONLY_127_0_0_1),
      resolve: (_hostname, _options, callback) => callback(null, [rebound]),
    });
    const seen = { connections: 0, requests: 0 };
    const target = createServer((req, res) => {
      seen.requests += 1;
      res.end();
    }).on('connection', () => (seen.connections += 1));
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.2', resolve));
    try {
      const port = (target.address() as AddressInfo).port;
      const error = await rebinding(`http://rebinding.test:${port}/`).catch((e: unknown) => e);
      expect(egressRefusalOf(error)?.reason).toBe('it connected to 127.0.0.2, a loopback address');
      expect(reads).toBeGreaterThanOrEqual(2);
      // The socket did open to 127.0.0.2 (the lookup's check passed), and was closed before a byte was sent.
      await waitFor('the connection to 127.0.0.2 to be seen', async () =>
        seen.connections > 0 ? true : undefined,
      );
      expect(seen.requests).toBe(0);
    } finally {
      target.closeAllConnections();
      await new Promise((resolve) => target.close(resolve));
    }
  });

  test('a saved integration whose destination is refused fails its test with egress_refused, no request', async () => {
    process.env.LEADRELAY_EGRESS_ALLOW = '127.0.0.0/8';
    const created = await call(api('/integrations'), 'POST', key, hubspot(`http://127.0.0.2:${refusedPort}`));
    expect(created.status).toBe(201);
    const id = created.body.id ?? created.body.integration?.id;
    // The operator narrows the allow-list (as a rebinding name would move): the send refuses.
    process.env.LEADRELAY_EGRESS_ALLOW = ONLY_127_0_0_1;
    const tested = await call(api(`/integrations/${id}/test`), 'POST', key);
    expect(tested.body).toMatchObject({
      ok: false,
      error: { code: 'egress_refused', message: expect.stringMatching(/127\.0\.0\.2.*loopback/) },
    });
    expect(reached.refused).toBe(0);
  });

  test('a webhook endpoint whose destination is refused is disabled at once with the reason', async () => {
    process.env.LEADRELAY_EGRESS_ALLOW = '127.0.0.0/8';
    const endpoint = await call(api('/webhook-endpoints'), 'POST', key, {
      name: 'moved',
      url: `http://127.0.0.2:${refusedPort}/hook`,
      events: ['lead.created'],
    });
    expect(endpoint.status).toBe(201);
    const queued = await call(api(`/webhook-endpoints/${endpoint.body.id}/test`), 'POST', key);
    expect(queued.status).toBe(202);
    process.env.LEADRELAY_EGRESS_ALLOW = ONLY_127_0_0_1;
    const result = await attemptWebhookDelivery(
      { pool: harness.pool, keyRing: KeyRing.parse(ENCRYPTION_KEYS) },
      {
        messageId: queued.body.message_id,
        attempt: 1,
        attemptedAt: new Date().toISOString(),
        retryInSeconds: 60,
      },
    );
    expect(result).toMatchObject({
      outcome: 'endpoint_disabled',
      error: expect.stringMatching(/^egress_refused: /),
    });
    const read = await call(api(`/webhook-endpoints/${endpoint.body.id}`), 'GET', key);
    expect(read.body).toMatchObject({
      status: 'disabled',
      disabled_reason: expect.stringMatching(/127\.0\.0\.2.*LEADRELAY_EGRESS_ALLOW/),
    });
    expect(reached.refused).toBe(0);
  });

  test('a Slack URL whose destination is refused fails for good (not retryable)', async () => {
    const error = await createSlackChannel()
      .send({
        key: 'k1',
        to: `http://127.0.0.2:${refusedPort}/services/T/B/X`,
        subject: 's',
        text: 't',
        priority: 'low',
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error).toMatchObject({ retryable: false, code: 'egress_refused' });
    expect(reached.refused).toBe(0);
  });
});

describe('bounded work', () => {
  test('an endless partner answer is cut at 1 MB: a final error, the stream closed, memory flat', async () => {
    let written = 0;
    const memoryBefore = process.memoryUsage();
    let closed!: () => void;
    const streamClosed = new Promise<void>((resolve) => (closed = resolve));
    const endless = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 'a');
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) written += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', closed);
      pump();
    });
    await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve));
    const port = (endless.address() as AddressInfo).port;
    try {
      const error = await partnerRequest(
        'hubspot',
        { integrationId: 'i', workspaceId: 'w', config: {}, credentials: {} },
        { method: 'GET', url: `http://127.0.0.1:${port}/endless` },
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PartnerError);
      expect(error).toMatchObject({
        kind: 'final',
        details: { partnerCode: 'answer_too_large' },
        message: expect.stringMatching(/longer than 1048576 bytes/),
      });
      await streamClosed;
      // What the server got out before the cut is the cap plus socket buffers, not an unbounded stream.
      expect(written).toBeLessThan(64 * 1024 * 1024);
      // The process held the cap and a few chunks, not the stream: its buffers and heap barely moved.
      const memoryAfter = process.memoryUsage();
      expect(memoryAfter.arrayBuffers - memoryBefore.arrayBuffers).toBeLessThan(16 * 1024 * 1024);
      expect(memoryAfter.heapUsed - memoryBefore.heapUsed).toBeLessThan(32 * 1024 * 1024);
    } finally {
      await new Promise((resolve) => endless.close(resolve));
    }
  });

  test('every pool has a statement_timeout; analytics statements a longer one', async () => {
    const show = await harness.pool.query<{ statement_timeout: string }>('SHOW statement_timeout');
    expect(show.rows[0]!.statement_timeout).toBe(`${STATEMENT_TIMEOUT_MS / 1000}s`);
    // An analytics statement names its workspace first ($1): that decides its concurrency slot.
    const analytics = await analyticsQuery<{ statement_timeout: string }>(
      harness.pool,
      `SELECT current_setting('statement_timeout') AS statement_timeout, $1::text AS workspace_id`,
      [`ws_${randomUUID().replace(/-/g, '').slice(0, 16)}`],
    );
    expect(analytics.rows[0]!.statement_timeout).toBe(`${ANALYTICS_STATEMENT_TIMEOUT_MS / 60_000}min`);
    const short = createPool(testStack().databaseUrl, 1, 50);
    try {
      await expect(short.query('SELECT pg_sleep(30)')).rejects.toMatchObject({ code: '57014' });
    } finally {
      await short.end();
    }
  });
});

describe('credentials go only where they were given for', () => {
  test('moving base_url without the credentials is 422 and nothing reaches the new destination', async () => {
    let hits = 0;
    const elsewhere = await listen('127.0.0.1', () => (hits += 1));
    const elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
    try {
      const created = await call(
        api('/integrations'),
        'POST',
        key,
        hubspot(`http://127.0.0.1:${allowedPort}`),
      );
      expect(created.status).toBe(201);
      const id = created.body.id;
      const moved = await call(api(`/integrations/${id}`), 'PATCH', key, {
        config: { base_url: elsewhereUrl },
      });
      expect(moved.status).toBe(422);
      expect(moved.body.error).toMatchObject({
        code: 'credentials_required',
        details: { fields: [expect.objectContaining({ field: 'config.base_url' })] },
      });
      // Nothing moved: a test of the saved integration still goes to the old destination only.
      await call(api(`/integrations/${id}/test`), 'POST', key);
      expect(hits).toBe(0);
      const unmoved = await call(api(`/integrations/${id}`), 'PATCH', key, {
        config: { base_url: `http://127.0.0.1:${allowedPort}`, stage_property: 'lead_stage' },
      });
      expect(unmoved.status).toBe(200);
      const withCredentials = await call(api(`/integrations/${id}`), 'PATCH', key, {
        config: { base_url: elsewhereUrl },
        credentials: { client_secret: 'hubspot-client-secret-2', access_token: 'token-2' },
      });
      expect(withCredentials.status).toBe(200);
      expect(withCredentials.body.config.base_url).toBe(elsewhereUrl);
    } finally {
      await new Promise((resolve) => elsewhere.close(resolve));
    }
  });

  test('credentials moved by a direct database update stay sealed: the test says to re-enter them, nothing is sent', async () => {
    let hits = 0;
    const elsewhere = await listen('127.0.0.1', () => (hits += 1));
    const elsewhereOrigin = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
    try {
      const created = await call(
        api('/integrations'),
        'POST',
        key,
        hubspot(`http://127.0.0.1:${allowedPort}`),
      );
      expect(created.status).toBe(201);
      const id = created.body.id;
      // A tampered row (or a write that went around the api): the URL moves, the sealed credentials stay.
      await harness.pool.query(
        `UPDATE integrations SET config = jsonb_set(config, '{base_url}', to_jsonb($2::text)) WHERE id = $1`,
        [id, `${elsewhereOrigin}/v3`],
      );
      const opened = await loadIntegrationSecrets(harness.pool, KeyRing.parse(ENCRYPTION_KEYS), id);
      expect(opened?.credentials).toEqual({});
      const reason =
        `the credentials were given for base_url=http://127.0.0.1:${allowedPort}, but the integration now ` +
        `sends to base_url=${elsewhereOrigin}: re-enter them`;
      expect(opened?.credentialsRefused).toBe(reason);

      const tested = await call(api(`/integrations/${id}/test`), 'POST', key);
      expect(tested.status).toBe(200);
      expect(tested.body).toMatchObject({
        ok: false,
        error: { code: 'credentials_required', message: reason, partner_status: null },
      });
      expect(hits).toBe(0);

      // Re-entering them (with the URL, as the api asks) binds them to the new destination.
      const fixed = await call(api(`/integrations/${id}`), 'PATCH', key, {
        config: { base_url: `${elsewhereOrigin}/v3` },
        credentials: { client_secret: 'hubspot-client-secret-2', access_token: 'token-2' },
      });
      expect(fixed.status).toBe(200);
      expect(
        (await loadIntegrationSecrets(harness.pool, KeyRing.parse(ENCRYPTION_KEYS), id))?.credentials,
      ).toEqual({ client_secret: 'hubspot-client-secret-2', access_token: 'token-2' });
    } finally {
      await new Promise((resolve) => elsewhere.close(resolve));
    }
  });

  test('credentials sealed before destinations were bound still open, and rotate-keys (or a PATCH) binds them', async () => {
    const keyRing = KeyRing.parse(ENCRYPTION_KEYS);
    const created = await call(api('/integrations'), 'POST', key, hubspot(`http://127.0.0.1:${allowedPort}`));
    expect(created.status).toBe(201);
    const id = created.body.id;
    const credentials = hubspot('').credentials;
    // The envelope every row had before: v1, sealed for its row only.
    await harness.pool.query('UPDATE integrations SET credentials_encrypted = $2 WHERE id = $1', [
      id,
      keyRing.seal(JSON.stringify(credentials), credentialsContext(id)),
    ]);
    expect((await loadIntegrationSecrets(harness.pool, keyRing, id))?.credentials).toEqual(credentials);

    const report = await resealSecrets(harness.pool, keyRing);
    expect(report.tables.integrations.resealed).toBeGreaterThanOrEqual(1);
    const { rows } = await harness.pool.query(
      'SELECT credentials_encrypted FROM integrations WHERE id = $1',
      [id],
    );
    expect(keyRing.boundTo(rows[0].credentials_encrypted)).toBe(`base_url=http://127.0.0.1:${allowedPort}`);
    expect((await loadIntegrationSecrets(harness.pool, keyRing, id))?.credentials).toEqual(credentials);
    // A v1 row is bound as well by the next PATCH of its config that keeps the destination.
    await harness.pool.query('UPDATE integrations SET credentials_encrypted = $2 WHERE id = $1', [
      id,
      keyRing.seal(JSON.stringify(credentials), credentialsContext(id)),
    ]);
    const patched = await call(api(`/integrations/${id}`), 'PATCH', key, {
      config: { base_url: `http://127.0.0.1:${allowedPort}`, stage_property: 'lead_stage' },
    });
    expect(patched.status).toBe(200);
    const again = await harness.pool.query('SELECT credentials_encrypted FROM integrations WHERE id = $1', [
      id,
    ]);
    expect(keyRing.boundTo(again.rows[0].credentials_encrypted)).toBe(
      `base_url=http://127.0.0.1:${allowedPort}`,
    );
    expect((await loadIntegrationSecrets(harness.pool, keyRing, id))?.credentials).toEqual(credentials);
    // Bound now: a moved URL no longer opens them.
    await harness.pool.query(
      `UPDATE integrations SET config = jsonb_set(config, '{base_url}', '"http://127.0.0.1:1"') WHERE id = $1`,
      [id],
    );
    expect((await loadIntegrationSecrets(harness.pool, keyRing, id))?.credentialsRefused).toMatch(
      /re-enter them$/,
    );
  });
});
