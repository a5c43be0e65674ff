// HubSpot (signature v3), CallRail (Signature, HMAC-SHA1), GoHighLevel (Ed25519 / legacy RSA public keys) and
// Facebook Lead Ads (X-Hub-Signature-256, hub.challenge) webhooks against the real stack. Every request is
// signed in the test exactly per the partner's published algorithm with node:crypto.
import { createHmac, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { call, registerWorkspace, startHarness, type Harness } from '../support/harness';
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

describe('Facebook Lead Ads', () => {
  const APP_SECRET = 'facebook-app-secret-2b7e';
  const VERIFY_TOKEN = 'verify-token-91c3f0';
  let facebook: CreatedIntegration;
  beforeAll(async () => {
    facebook = await createIntegration(harness, key, {
      partner: 'facebook',
      credentials: { app_secret: APP_SECRET, verify_token: VERIFY_TOKEN },
    });
  });

  /** X-Hub-Signature-256: sha256=hex(HMAC-SHA256(app secret, raw body)). */
  const postFacebook = (payload: unknown, secret = APP_SECRET) => {
    const body = JSON.stringify(payload);
    const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    return post(facebook.webhook_url, body, {
      'content-type': 'application/json',
      'x-hub-signature-256': signature,
    });
  };

  test('the subscription GET echoes hub.challenge for the right verify token, 403 otherwise', async () => {
    const ok = await fetch(
      `${facebook.webhook_url}?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`,
    );
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('1158201444');
    const wrong = await fetch(
      `${facebook.webhook_url}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1158201444`,
    );
    expect(wrong.status).toBe(403);
  });

  test('a leadgen notification creates a lead under its leadgen id, with the form and ad kept', async () => {
    const leadgenId = unique();
    const payload = fixture('facebook', 'leadgen.json');
    payload.entry[0].changes[0].value.leadgen_id = leadgenId;
    const answer = await postFacebook(payload);
    expect(answer.status).toBe(200);
    const lead = await leadOf(answer.body.lead_id);
    expect(lead).toMatchObject({
      source: 'facebook',
      external_ids: { facebook: leadgenId },
      custom_data: { facebook: { form_id: '1234567890123456', ad_id: '23847598123450123' } },
    });
    await journeyWhere(
      harness,
      workspaceId,
      answer.body.lead_id,
      (s) => s.status === 'new' && s.source === 'facebook',
    );
    // Facebook retries with the same leadgen id: one lead, one inbox row.
    const again = await postFacebook(payload);
    expect(again.body).toMatchObject({ duplicate: true, lead_id: answer.body.lead_id });
    await waitFor(
      'one inbox row for the retried leadgen id',
      async () =>
        (await inboxRows(harness, facebook.id)).filter((r) => r.partner_event_id === leadgenId).length === 1,
    );
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
