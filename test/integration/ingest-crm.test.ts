// HubSpot (signature v3), CallRail (Signature, HMAC-SHA1), GoHighLevel (Ed25519 / legacy RSA public keys) and
// Facebook Lead Ads (X-Hub-Signature-256, hub.challenge; each lead then fetched from its Graph API twin) webhooks
// against the real stack. Every request is
// signed in the test exactly per the partner's published algorithm with node:crypto.
import { createHmac, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { loadIntegrationSecrets } from '../../data/integrations';
import { startFacebookSandbox, type FacebookSandbox } from '../../infra/sandbox/facebook';
import { startGoHighLevelSandbox, type GhlSandbox } from '../../infra/sandbox/gohighlevel';
import { KeyRing } from '../../shared/crypto';
import { ENCRYPTION_KEYS, call, registerWorkspace, startHarness, type Harness } from '../support/harness';
import {
  createIntegration,
  fixture,
  historyRows,
  inboxRows,
  journeyWhere,
  post,
  waitFor,
  type CreatedIntegration,
} from '../support/ingest';

let harness: Harness;
let key: string;
let workspaceId: string;

beforeAll(async () => {
  harness = await startHarness();
  ({ apiKey: key, workspaceId } = await registerWorkspace(harness.apiUrl));
});
afterAll(async () => {
  await harness?.stop();
});

const unique = () => `${Date.now()}${randomBytes(2).readUInt16BE(0)}`;

async function leadOf(leadId: string) {
  return (await call(`${harness.apiUrl}/api/v1/leads/${leadId}`, 'GET', key)).body;
}

describe('HubSpot', () => {
  const CLIENT_SECRET = 'hubspot-client-secret-4f1a9c';
  let hubspot: CreatedIntegration;
  beforeAll(async () => {
    hubspot = await createIntegration(harness, key, {
      partner: 'hubspot',
      config: { portal_id: 62515 },
      credentials: { client_secret: CLIENT_SECRET },
    });
  });

  /** v3: base64(HMAC-SHA256(client secret, method + uri + body + timestamp)), timestamp in ms. */
  function hubspotHeaders(body: string, at = Date.now(), secret = CLIENT_SECRET) {
    const signature = createHmac('sha256', secret)
      .update(`POST${hubspot.webhook_url}${body}${at}`)
      .digest('base64');
    return {
      'content-type': 'application/json',
      'x-hubspot-signature-v3': signature,
      'x-hubspot-request-timestamp': String(at),
    };
  }

  const postHubSpot = (payload: unknown, at?: number, secret?: string) => {
    const body = JSON.stringify(payload);
    return post(hubspot.webhook_url, body, hubspotHeaders(body, at, secret));
  };

  test('contact.creation creates a lead under its HubSpot id; hs_lead_status CONNECTED marks it contacted', async () => {
    const objectId = Number(unique().slice(-9));
    const created = await postHubSpot([
      { ...fixture('hubspot', 'contact-creation.json')[0], objectId, eventId: Number(unique().slice(-10)) },
    ]);
    expect(created.status).toBe(200);
    const leadId = created.body.lead_id;
    expect(await leadOf(leadId)).toMatchObject({
      source: 'hubspot',
      external_ids: { hubspot: String(objectId) },
    });
    await journeyWhere(harness, workspaceId, leadId, (s) => s.counters.events === 1);

    const changes = fixture('hubspot', 'lead-status-changes.json').map((event: any, i: number) => ({
      ...event,
      objectId,
      eventId: Number(unique().slice(-10)) + i,
    }));
    const answer = await postHubSpot(changes);
    expect(answer.status).toBe(200);
    expect(answer.body.events.map((e: any) => e.status)).toEqual(['delivered', 'ignored']);
    await journeyWhere(harness, workspaceId, leadId, (s) => s.status === 'contacted');
    const rows = await historyRows(harness, leadId);
    expect(rows[rows.length - 1]).toMatchObject({
      new_status: 'contacted',
      source: 'partner:hubspot',
      actor: 'CRM_UI',
      context: expect.objectContaining({ value: 'CONNECTED' }),
    });
  });

  test('an hs_lead_status HubSpot does not define is 422 naming the event and field', async () => {
    const [event] = fixture('hubspot', 'lead-status-changes.json');
    const answer = await postHubSpot([{ ...event, propertyValue: 'MAYBE_LATER' }]);
    expect(answer.status).toBe(422);
    expect(answer.body.error.details.fields).toEqual([
      { field: '0.propertyValue', message: expect.any(String) },
    ]);
  });

  test('a wrong secret, a changed body or a timestamp over 5 minutes old is 401', async () => {
    const payload = fixture('hubspot', 'contact-creation.json');
    expect((await postHubSpot(payload, undefined, 'another-client-secret')).status).toBe(401);
    const body = JSON.stringify(payload);
    expect(
      (await post(hubspot.webhook_url, body.replace('CRM_UI', 'API'), hubspotHeaders(body))).status,
    ).toBe(401);
    const stale = await postHubSpot(payload, Date.now() - 301_000);
    expect(stale.status).toBe(401);
    expect(stale.body.error.details.reason).toBe('stale_timestamp');
  });
});

describe('CallRail', () => {
  const SIGNING_KEY = 'callrail-signing-key-77a2';
  let callrail: CreatedIntegration;
  beforeAll(async () => {
    callrail = await createIntegration(harness, key, {
      partner: 'callrail',
      credentials: { signing_key: SIGNING_KEY },
    });
  });

  /** Signature: base64(HMAC-SHA1(signing key, raw body)). */
  const postCallRail = (payload: unknown, keyToUse = SIGNING_KEY) => {
    const body = JSON.stringify(payload);
    const signature = createHmac('sha1', keyToUse).update(body).digest('base64');
    return post(callrail.webhook_url, body, { 'content-type': 'application/json', signature });
  };

  test('post-call then call-modified for one call make one call record and one journey call', async () => {
    const callId = `CAL${randomBytes(16).toString('hex')}`;
    const phone = `+1303${200 + (Number(unique()) % 700)}${String(Number(unique()) % 10000).padStart(4, '0')}`;
    const postCall = fixture('callrail', 'post-call.json', {
      id: callId,
      resource_id: callId,
      customer_phone_number: phone,
    });
    const first = await postCallRail(postCall);
    expect(first.status).toBe(200);
    const leadId = first.body.lead_id;
    // An answered call on a new lead marks it contacted.
    await journeyWhere(
      harness,
      workspaceId,
      leadId,
      (s) => s.status === 'contacted' && s.counters.calls === 1,
    );
    expect(await leadOf(leadId)).toMatchObject({
      first_name: 'Jordan',
      last_name: 'Ellis',
      phone,
      source: 'callrail',
    });

    const modified = fixture('callrail', 'call-modified.json', {
      id: callId,
      resource_id: callId,
      customer_phone_number: phone,
    });
    const second = await postCallRail(modified);
    expect(second).toMatchObject({ status: 200, body: { status: 'ignored', duplicate: false } });
    const { rows } = await harness.pool.query('SELECT * FROM calls WHERE call_id = $1', [callId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      lead_id: leadId,
      answered: true,
      duration_seconds: 187,
      webhooks: 2,
      data: expect.objectContaining({ lead_status: 'good_lead', note: 'Wants a 2BR, moving in May' }),
    });
    const inbox = (await inboxRows(harness, callrail.id)).filter((r) =>
      r.partner_event_id.startsWith(callId),
    );
    expect(inbox.map((r) => r.status)).toEqual(['delivered', 'ignored']);
    expect(inbox[1].normalized.note).toBe(`folded into call ${callId}`);
    const state = await journeyWhere(harness, workspaceId, leadId, () => true);
    expect(state.counters.calls).toBe(1);

    // The same post-call delivered again is a duplicate: no new row, no new call.
    const again = await postCallRail(postCall);
    expect(again.body).toMatchObject({ duplicate: true, lead_id: leadId });
    const calls = await harness.pool.query('SELECT webhooks FROM calls WHERE call_id = $1', [callId]);
    expect(calls.rows[0].webhooks).toBe(2);
  });

  test('a Signature by another key, or none, is 401', async () => {
    const payload = fixture('callrail', 'post-call.json');
    expect((await postCallRail(payload, 'wrong-key')).status).toBe(401);
    const unsigned = await post(callrail.webhook_url, JSON.stringify(payload), {
      'content-type': 'application/json',
    });
    expect(unsigned.status).toBe(401);
  });
});

describe('GoHighLevel', () => {
  const ed25519 = generateKeyPairSync('ed25519');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let ghl: CreatedIntegration;
  beforeAll(async () => {
    ghl = await createIntegration(harness, key, {
      partner: 'gohighlevel',
      config: {
        location_id: 've9EPM428h8vShlRW1KT',
        public_key: ed25519.publicKey.export({ type: 'spki', format: 'pem' }),
        rsa_public_key: rsa.publicKey.export({ type: 'spki', format: 'pem' }),
      },
    });
  });

  /** x-ghl-signature: base64 Ed25519 signature of the raw body; legacy x-wh-signature: RSA-SHA256. */
  function postGhl(
    payload: Record<string, unknown>,
    options: { legacy?: boolean; signer?: typeof ed25519 } = {},
  ) {
    const body = JSON.stringify({ ...payload, timestamp: payload.timestamp ?? new Date().toISOString() });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.legacy) {
      headers['x-wh-signature'] = sign('sha256', Buffer.from(body), rsa.privateKey).toString('base64');
    } else {
      headers['x-ghl-signature'] = sign(
        null,
        Buffer.from(body),
        (options.signer ?? ed25519).privateKey,
      ).toString('base64');
    }
    return post(ghl.webhook_url, body, headers);
  }

  test('ContactCreate creates the lead under its contact id; OpportunityStatusUpdate won makes it leased', async () => {
    const contactId = `c${unique()}`;
    const email = `taylor.${unique()}@example.com`;
    const created = await postGhl({
      ...fixture('gohighlevel', 'contact-create.json', { id: contactId, email, phone: undefined }),
      webhookId: `wh-${unique()}`,
      timestamp: undefined,
    });
    expect(created.status).toBe(200);
    const leadId = created.body.lead_id;
    expect(await leadOf(leadId)).toMatchObject({
      email,
      first_name: 'Taylor',
      external_ids: { gohighlevel: contactId },
    });
    await journeyWhere(harness, workspaceId, leadId, (s) => s.counters.events === 1);
    const won = await postGhl(
      {
        ...fixture('gohighlevel', 'opportunity-status-update.json', {
          contactId,
          webhookId: `wh-${unique()}`,
        }),
        timestamp: undefined,
      },
      { legacy: true },
    );
    expect(won.status).toBe(200);
    await journeyWhere(harness, workspaceId, leadId, (s) => s.status === 'leased');
    const rows = await historyRows(harness, leadId);
    expect(rows[rows.length - 1]).toMatchObject({ new_status: 'leased', source: 'partner:gohighlevel' });
  });

  test('a signature by another key, or a timestamp over 5 minutes old, is 401', async () => {
    const payload = {
      ...fixture('gohighlevel', 'contact-create.json'),
      webhookId: `wh-${unique()}`,
      timestamp: undefined,
    };
    const other = generateKeyPairSync('ed25519');
    expect((await postGhl(payload, { signer: other })).status).toBe(401);
    const stale = await postGhl({ ...payload, timestamp: new Date(Date.now() - 6 * 60_000).toISOString() });
    expect(stale.status).toBe(401);
    expect(stale.body.error.details.reason).toBe('stale_timestamp');
  });

  test('OpportunityCreate and OpportunityStageUpdate move the lead by status; InboundMessage reaches its journey', async () => {
    const contactId = `c${unique()}`;
    const created = await postGhl({
      ...fixture('gohighlevel', 'contact-create.json', {
        id: contactId,
        email: `sky.${unique()}@example.com`,
      }),
      webhookId: `wh-${unique()}`,
      timestamp: undefined,
    });
    const leadId = created.body.lead_id;
    await journeyWhere(harness, workspaceId, leadId, (s) => s.counters.events === 1);

    // The contact texts in: one more event on the lead's journey, its status untouched.
    const message = await postGhl({
      ...fixture('gohighlevel', 'inbound-message.json', { contactId, webhookId: `wh-${unique()}` }),
      timestamp: undefined,
    });
    expect(message.body).toMatchObject({
      accepted: true,
      duplicate: false,
      lead_id: leadId,
      status: 'delivered',
    });
    const inbox = (await inboxRows(harness, ghl.id)).find(
      (r) => r.event_type === 'InboundMessage' && r.lead_id === leadId,
    );
    await journeyWhere(harness, workspaceId, leadId, (s) => s.lastEventId === `inbox/${inbox.id}/1`);

    // A new opportunity that is open: the contact is being worked (contacted), with the opportunity named.
    const opened = await postGhl({
      ...fixture('gohighlevel', 'opportunity-create.json', { contactId, webhookId: `wh-${unique()}` }),
      timestamp: undefined,
    });
    expect(opened.body).toMatchObject({ lead_id: leadId, status: 'delivered' });
    await journeyWhere(harness, workspaceId, leadId, (s) => s.status === 'contacted');
    // Its stage moves and GoHighLevel reports it lost: the journey ends lost.
    await postGhl({
      ...fixture('gohighlevel', 'opportunity-stage-update.json', { contactId, webhookId: `wh-${unique()}` }),
      timestamp: undefined,
    });
    const rows = await waitFor('the lead lost by the stage update', async () => {
      const history = await historyRows(harness, leadId);
      return history.some((r) => r.new_status === 'lost') ? history : undefined;
    });
    expect(
      rows.map((r) => [r.old_status, r.new_status, r.source, r.context.pipeline_stage_id ?? null]),
    ).toEqual([
      [null, 'new', 'partner:gohighlevel', null],
      ['new', 'contacted', 'partner:gohighlevel', '7915dedc-8f18-44d5-8bc3-77c04e994a10'],
      ['contacted', 'lost', 'partner:gohighlevel', 'e93ba61a-53b3-45e7-985a-c7732dd0e9ba'],
    ]);
    expect(rows[1].context).toMatchObject({ opportunity_id: 'ChWpEgb5ohJBx9JIFgsA', value: 'open' });

    // An opportunity of a contact we do not know waits, unmatched, for its contact.
    const orphan = await postGhl({
      ...fixture('gohighlevel', 'opportunity-create.json', {
        contactId: `c${unique()}`,
        webhookId: `wh-${unique()}`,
      }),
      timestamp: undefined,
    });
    expect([orphan.status, orphan.body.status]).toEqual([202, 'unmatched']);
  });

  test('an integration without a public key is refused, naming config.public_key', async () => {
    const answer = await call(`${harness.apiUrl}/api/v1/integrations`, 'POST', key, {
      partner: 'gohighlevel',
      name: 'no key',
      config: { public_key: 'not a pem' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.fields.map((f: any) => f.field)).toContain('config.public_key');
  });
});

describe('GoHighLevel OAuth', () => {
  let sandbox: GhlSandbox;
  let oauthKey: string;
  let integrationId: string;
  beforeAll(async () => {
    sandbox = await startGoHighLevelSandbox();
    // A workspace of its own: every lead of it is pushed to this GoHighLevel location.
    ({ apiKey: oauthKey } = await registerWorkspace(harness.apiUrl));
    integrationId = (
      await createIntegration(harness, oauthKey, {
        partner: 'gohighlevel',
        config: {
          base_url: sandbox.url,
          location_id: sandbox.locationId,
          pipeline_id: sandbox.pipelines[0]!.id,
          public_key: generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }),
        },
        // An OAuth app and the location's refresh token only: the first push refreshes.
        credentials: {
          client_id: sandbox.oauth.clientId,
          client_secret: sandbox.oauth.clientSecret,
          refresh_token: sandbox.oauth.refreshToken,
        },
      })
    ).id;
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  const stored = async () =>
    (await loadIntegrationSecrets(harness.pool, KeyRing.parse(ENCRYPTION_KEYS), integrationId))!.credentials;

  async function pushedLead(): Promise<string> {
    const answer = await call(`${harness.apiUrl}/api/v1/leads`, 'POST', oauthKey, {
      source: 'website',
      first_name: 'Rowan',
      email: `rowan.${unique()}@example.com`,
    });
    expect(answer.status).toBe(201);
    return answer.body.id;
  }

  const outcomes = (leadId: string) =>
    waitFor(`the GoHighLevel push of lead ${leadId} settled`, async () => {
      const { rows } = await harness.pool.query('SELECT outcome FROM partner_syncs WHERE lead_id = $1', [
        leadId,
      ]);
      return rows.length > 0 && rows.every((r) => r.outcome !== 'pending')
        ? rows.map((r) => r.outcome)
        : undefined;
    });

  test('a rotated refresh token is stored sealed before use; after the token expires the stored one refreshes, once for concurrent pushes', async () => {
    expect(await outcomes(await pushedLead())).toEqual(['success']);
    expect(sandbox.refreshes).toBe(1);
    // The rotated pair is in the integration's sealed credentials, not in a worker's memory.
    const afterFirst = await stored();
    expect(afterFirst.refresh_token).toBe(sandbox.currentRefreshToken);
    expect(afterFirst.refresh_token).not.toBe(sandbox.oauth.refreshToken);
    const { rows } = await harness.pool.query(
      'SELECT credentials_encrypted FROM integrations WHERE id = $1',
      [integrationId],
    );
    expect(rows[0].credentials_encrypted).not.toContain(afterFirst.refresh_token);
    // Sealed for where the tokens are sent: the location's base_url origin.
    expect(KeyRing.parse(ENCRYPTION_KEYS).boundTo(rows[0].credentials_encrypted)).toBe(
      `base_url=${new URL(sandbox.url).origin}`,
    );

    // The access token expires; two leads are pushed at once: one refresh with the stored (rotated) token, the
    // other push takes the tokens it stored. The original refresh token would be refused.
    sandbox.expireTokens();
    const [a, b] = await Promise.all([pushedLead(), pushedLead()]);
    expect([await outcomes(a), await outcomes(b)]).toEqual([['success'], ['success']]);
    expect(sandbox.refreshes).toBe(2);
    expect((await stored()).refresh_token).toBe(sandbox.currentRefreshToken);
  });

  test('tokens moved to another destination by a direct database update stay sealed: the push fails, no refresh', async () => {
    const other = await startGoHighLevelSandbox();
    try {
      await harness.pool.query(
        `UPDATE integrations SET config = jsonb_set(config, '{base_url}', to_jsonb($2::text)) WHERE id = $1`,
        [integrationId, other.url],
      );
      const leadId = await pushedLead();
      expect(await outcomes(leadId)).toEqual(['failed']);
      const { rows } = await harness.pool.query('SELECT error FROM partner_syncs WHERE lead_id = $1', [
        leadId,
      ]);
      expect(rows[0].error).toBe(
        `the credentials were given for base_url=${new URL(sandbox.url).origin}, but the integration now ` +
          `sends to base_url=${new URL(other.url).origin}: re-enter them`,
      );
      expect(other.refreshes).toBe(0);
      expect(other.requests.items).toEqual([]);
    } finally {
      await harness.pool.query(
        `UPDATE integrations SET config = jsonb_set(config, '{base_url}', to_jsonb($2::text)) WHERE id = $1`,
        [integrationId, sandbox.url],
      );
      await other.close();
    }
  });
});

describe('Facebook Lead Ads', () => {
  let graph: FacebookSandbox;
  let facebook: CreatedIntegration;
  beforeAll(async () => {
    graph = await startFacebookSandbox();
    facebook = await createIntegration(harness, key, {
      partner: 'facebook',
      config: { base_url: graph.url },
      credentials: {
        app_secret: graph.appSecret,
        verify_token: graph.verifyToken,
        page_access_token: graph.pageAccessToken,
      },
    });
  });
  afterAll(async () => {
    await graph?.close();
  });

  /** X-Hub-Signature-256: sha256=hex(HMAC-SHA256(app secret, raw body)). */
  const postFacebook = (payload: unknown, secret = graph.appSecret) => {
    const body = JSON.stringify(payload);
    const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    return post(facebook.webhook_url, body, {
      'content-type': 'application/json',
      'x-hub-signature-256': signature,
    });
  };

  /** The inbox row of a leadgen id once its fetch workflow has delivered it. */
  const deliveredRow = (leadgenId: string, after = new Date(0)) =>
    waitFor(`the leadgen ${leadgenId} fetched and delivered`, async () => {
      const row = (await inboxRows(harness, facebook.id)).find((r) => r.partner_event_id === leadgenId);
      return row?.status === 'delivered' && row.delivered_at > after ? row : undefined;
    });

  test('the subscription GET echoes hub.challenge for the right verify token, 403 otherwise', async () => {
    const ok = await fetch(
      `${facebook.webhook_url}?hub.mode=subscribe&hub.verify_token=${graph.verifyToken}&hub.challenge=1158201444`,
    );
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('1158201444');
    const wrong = await fetch(
      `${facebook.webhook_url}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1158201444`,
    );
    expect(wrong.status).toBe(403);
  });

  test('a leadgen notification is acknowledged once stored; the lead is then fetched from the Graph API with its answers', async () => {
    const lead = graph.addLead({
      full_name: 'Dana Okafor',
      email: 'Dana.Okafor.' + unique() + '@example.com ',
      phone_number: '303-555-0144',
      'how_many_bedrooms?': '2',
    });
    const answer = graph.notification(lead);
    const posted = await post(facebook.webhook_url, answer.body, answer.headers);
    // Durable (inbox row, fetch workflow started) but not fetched inside Facebook's request.
    expect(posted.status).toBe(202);
    expect(posted.body).toMatchObject({ accepted: true, duplicate: false, lead_id: null, status: 'pending' });
    const row = await deliveredRow(lead.id);
    const created = await leadOf(row.lead_id);
    expect(created).toMatchObject({
      source: 'facebook',
      first_name: 'Dana',
      last_name: 'Okafor',
      email: lead.field_data.find((f) => f.name === 'email')!.values[0]!.trim(),
      phone: '+13035550144',
      external_ids: { facebook: lead.id },
      custom_data: {
        facebook: { leadgen_id: lead.id, form_id: lead.form_id, answers: { 'how_many_bedrooms?': '2' } },
      },
    });
    await journeyWhere(
      harness,
      workspaceId,
      row.lead_id,
      (s) => s.status === 'new' && s.source === 'facebook',
    );
    // Facebook retries with the same leadgen id: one lead, one inbox row, no second fetch.
    const fetches = graph.requests.items.filter((r) => r.url.includes(lead.id)).length;
    const again = await post(facebook.webhook_url, answer.body, answer.headers);
    expect(again.body).toMatchObject({ duplicate: true, lead_id: row.lead_id });
    expect(graph.requests.items.filter((r) => r.url.includes(lead.id))).toHaveLength(fetches);
  });

  test('a second form by the same person (email in another case, with spaces) joins the same lead', async () => {
    const email = `sam.${unique()}@example.com`;
    const first = graph.addLead({ full_name: 'Sam Reyes', email });
    const second = graph.addLead({ full_name: 'Sam Reyes', email: `  ${email.toUpperCase()}` });
    const one = graph.notification(first);
    await post(facebook.webhook_url, one.body, one.headers);
    const firstRow = await deliveredRow(first.id);
    const two = graph.notification(second);
    await post(facebook.webhook_url, two.body, two.headers);
    const secondRow = await deliveredRow(second.id);
    expect(secondRow.lead_id).toBe(firstRow.lead_id);
    const ids = await harness.pool.query(
      `SELECT external_id FROM lead_external_ids WHERE lead_id = $1 AND partner = 'facebook' ORDER BY created_at`,
      [firstRow.lead_id],
    );
    expect(ids.rows.map((r) => r.external_id)).toEqual([first.id, second.id]);
  });

  test('an expired page token is a staff task, not a retry loop; after a reconnect the replayed event fills the lead in', async () => {
    const lead = graph.addLead({ full_name: 'Lee Park', email: `lee.${unique()}@example.com` });
    graph.expireToken();
    const notice = graph.notification(lead);
    expect((await post(facebook.webhook_url, notice.body, notice.headers)).status).toBe(202);
    // Delivered as it is (nothing is lost: the lead exists under its leadgen id), once: Graph was asked once.
    const row = await deliveredRow(lead.id);
    expect(graph.requests.items.filter((r) => r.url.includes(lead.id))).toHaveLength(1);
    const bare = await leadOf(row.lead_id);
    expect(bare).toMatchObject({ external_ids: { facebook: lead.id }, email: null });
    const tasks = await harness.pool.query('SELECT kind, details FROM staff_tasks WHERE lead_id = $1', [
      row.lead_id,
    ]);
    expect(tasks.rows).toEqual([
      {
        kind: 'partner_fetch_failed:facebook',
        details: expect.objectContaining({
          inbox_event_id: row.id,
          error: expect.stringMatching(/code 190/),
        }),
      },
    ]);
    const broken = await call(`${harness.apiUrl}/api/v1/integrations/${facebook.id}`, 'GET', key);
    expect(broken.body).toMatchObject({
      status: 'error',
      last_error: expect.stringMatching(/Session has expired/),
    });

    // Staff reconnect the page (new token: the integration is active again) and replay the event.
    const patched = await call(`${harness.apiUrl}/api/v1/integrations/${facebook.id}`, 'PATCH', key, {
      credentials: {
        app_secret: graph.appSecret,
        verify_token: graph.verifyToken,
        page_access_token: graph.renewToken(),
      },
    });
    expect(patched.body.status).toBe('active');
    const replayed = await call(`${harness.apiUrl}/api/v1/inbox/${row.id}/replay`, 'POST', key);
    expect(replayed.status).toBe(200);
    const refetched = await deliveredRow(lead.id, row.delivered_at);
    expect(refetched.lead_id).toBe(row.lead_id);
    expect(await leadOf(row.lead_id)).toMatchObject({
      first_name: 'Lee',
      email: expect.stringMatching(/^lee\./),
    });
  });

  test('a signature by another secret is 401; a bad leadgen value is 400 naming its path', async () => {
    const payload = fixture('facebook', 'leadgen.json');
    expect((await postFacebook(payload, 'another-secret')).status).toBe(401);
    payload.entry[0].changes[0].value.leadgen_id = 'not-a-number';
    const bad = await postFacebook(payload);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields[0].field).toBe('entry.0.changes.0.value.leadgen_id');
  });
});
