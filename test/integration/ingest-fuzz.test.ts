// Hostile and broken webhooks: several hundred malformed, truncated, oversized, wrongly signed, stale and
// replayed requests (seeded, so a failure reproduces) across every partner. Every answer is a 4xx, the
// process stays up, and nothing is stored or reaches a journey.
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { call, registerWorkspace, startHarness, type Harness } from '../support/harness';
import {
  createIntegration,
  fixture,
  fixtureText,
  historyRows,
  post,
  standardWebhookHeaders,
  uniqueEmail,
  waitFor,
  type Answer,
  type CreatedIntegration,
} from '../support/ingest';

const SEED = 0x1ead7e1a;
const REQUESTS = 420;

/** mulberry32: a small seeded PRNG, so every run sends the same requests. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256))),
  };
}

let harness: Harness;
let key: string;
let workspaceId: string;
const ghlKeys = generateKeyPairSync('ed25519');
const SECRETS = {
  twilio: 'fuzz-twilio-auth-token-000000001',
  calendly: 'fuzz-calendly-signing-key-000001',
  hubspot: 'fuzz-hubspot-client-secret-00001',
  callrail: 'fuzz-callrail-signing-key-000001',
  facebook: 'fuzz-facebook-app-secret-0000001',
};
const targets: Record<string, CreatedIntegration> = {};

beforeAll(async () => {
  harness = await startHarness();
  ({ apiKey: key, workspaceId } = await registerWorkspace(harness.apiUrl));
  for (const partner of ['resman', 'webform', 'chatbot', 'apfm', 'caring']) {
    targets[partner] = await createIntegration(harness, key, { partner });
  }
  targets.twilio = await createIntegration(harness, key, {
    partner: 'twilio',
    credentials: { auth_token: SECRETS.twilio },
  });
  targets.calendly = await createIntegration(harness, key, {
    partner: 'calendly',
    credentials: { signing_key: SECRETS.calendly },
  });
  targets.hubspot = await createIntegration(harness, key, {
    partner: 'hubspot',
    credentials: { client_secret: SECRETS.hubspot },
  });
  targets.callrail = await createIntegration(harness, key, {
    partner: 'callrail',
    credentials: { signing_key: SECRETS.callrail },
  });
  targets.facebook = await createIntegration(harness, key, {
    partner: 'facebook',
    credentials: { app_secret: SECRETS.facebook, verify_token: 'fuzz-verify-token' },
  });
  targets.gohighlevel = await createIntegration(harness, key, {
    partner: 'gohighlevel',
    config: { public_key: ghlKeys.publicKey.export({ type: 'spki', format: 'pem' }) },
  });
});
afterAll(async () => {
  await harness?.stop();
});

/** Valid bodies per Standard Webhooks partner, and for each the fields whose every wrong value is refused. */
const STANDARD: Record<string, { body: () => any; fields: string[] }> = {
  resman: {
    body: () => fixture('resman', 'status-update.json'),
    fields: ['lead_id', 'new_status', 'updated_at'],
  },
  webform: { body: () => fixture('webform', 'inquiry.json'), fields: ['submitted_at'] },
  chatbot: {
    body: () => fixture('chatbot', 'tour-booked.json'),
    fields: ['conversation_id', 'new_status', 'updated_at'],
  },
  apfm: {
    body: () => fixture('apfm', 'referral.json'),
    fields: ['type', 'referral_id', 'referred_at', 'contact'],
  },
  caring: {
    body: () => fixture('caring', 'status-moved-in.json'),
    fields: ['type', 'referral_id', 'status', 'changed_at'],
  },
};
const WRONG_VALUES = [null, 12345, [], {}, true, '', 'x'.repeat(300), -1];

interface FuzzRequest {
  kind: string;
  url: string;
  body: string | Buffer;
  headers: Record<string, string>;
}

/** A proper prefix of a JSON object's text is never valid JSON. */
const truncate = (text: string, rng: ReturnType<typeof prng>) => text.slice(0, rng.int(text.length - 1));

function standardRequests(rng: ReturnType<typeof prng>): FuzzRequest {
  const partner = rng.pick(Object.keys(STANDARD));
  const target = targets[partner]!;
  const secret = target.webhook_secret!;
  const valid = JSON.stringify(STANDARD[partner]!.body());
  const kind = rng.pick([
    'truncated',
    'truncated-old-signature',
    'type-confused',
    'not-json',
    'random-bytes',
    'wrong-secret',
    'random-signature',
    'stale',
    'future',
    'missing-header',
    'replayed-new-id',
    'replayed-new-body',
    'unknown-status',
    'bad-encoding',
  ]);
  const signedBy = (body: string | Buffer, options: { at?: Date; id?: string } = {}) =>
    standardWebhookHeaders(secret, body.toString(), options);
  switch (kind) {
    case 'truncated': {
      const body = truncate(valid, rng);
      return { kind, url: target.webhook_url, body, headers: signedBy(body) };
    }
    case 'truncated-old-signature':
      return { kind, url: target.webhook_url, body: truncate(valid, rng), headers: signedBy(valid) };
    case 'type-confused': {
      const body = STANDARD[partner]!.body();
      body[rng.pick(STANDARD[partner]!.fields)] = rng.pick(WRONG_VALUES);
      const text = JSON.stringify(body);
      return { kind, url: target.webhook_url, body: text, headers: signedBy(text) };
    }
    case 'not-json': {
      const body = rng.pick([
        '',
        '[]',
        'null',
        '"text"',
        '42',
        'true',
        '<xml/>',
        'lead_id=1&new_status=new',
        '{"a":}',
      ]);
      return { kind, url: target.webhook_url, body, headers: signedBy(body) };
    }
    case 'random-bytes': {
      const body = rng.bytes(1 + rng.int(400));
      return { kind, url: target.webhook_url, body, headers: signedBy(body) };
    }
    case 'wrong-secret':
      return {
        kind,
        url: target.webhook_url,
        body: valid,
        headers: standardWebhookHeaders(`whsec_${rng.bytes(32).toString('base64')}`, valid),
      };
    case 'random-signature':
      return {
        kind,
        url: target.webhook_url,
        body: valid,
        headers: { ...signedBy(valid), 'webhook-signature': `v1,${rng.bytes(32).toString('base64')}` },
      };
    case 'stale':
      return {
        kind,
        url: target.webhook_url,
        body: valid,
        headers: signedBy(valid, { at: new Date(Date.now() - (301 + rng.int(86_400)) * 1000) }),
      };
    case 'future':
      return {
        kind,
        url: target.webhook_url,
        body: valid,
        headers: signedBy(valid, { at: new Date(Date.now() + (301 + rng.int(86_400)) * 1000) }),
      };
    case 'missing-header': {
      const headers = signedBy(valid);
      delete headers[rng.pick(['webhook-id', 'webhook-timestamp', 'webhook-signature'])];
      return { kind, url: target.webhook_url, body: valid, headers };
    }
    case 'replayed-new-id':
      // A captured request re-sent under a fresh id to dodge the inbox: the id is signed too.
      return {
        kind,
        url: target.webhook_url,
        body: valid,
        headers: { ...signedBy(valid), 'webhook-id': `msg_${rng.int(1e9)}` },
      };
    case 'replayed-new-body': {
      const other = JSON.stringify({ ...STANDARD[partner]!.body(), injected: rng.int(1e6) });
      return { kind, url: target.webhook_url, body: other, headers: signedBy(valid) };
    }
    case 'unknown-status': {
      const body =
        partner === 'resman' || partner === 'chatbot'
          ? { ...STANDARD[partner]!.body(), new_status: `status_${rng.int(1e6)}` }
          : fixture('apfm', 'status-pre-tour.json', { status: `stage_${rng.int(1e6)}` });
      const url =
        partner === 'resman' || partner === 'chatbot' ? target.webhook_url : targets.apfm!.webhook_url;
      const text = JSON.stringify(body);
      const headers =
        partner === 'resman' || partner === 'chatbot'
          ? signedBy(text)
          : standardWebhookHeaders(targets.apfm!.webhook_secret!, text);
      return { kind, url, body: text, headers };
    }
    default: {
      // Claims gzip but is not: refused by the body reader.
      return {
        kind,
        url: target.webhook_url,
        body: valid,
        headers: { ...signedBy(valid), 'content-encoding': 'gzip' },
      };
    }
  }
}

function partnerSchemeRequests(rng: ReturnType<typeof prng>): FuzzRequest {
  const partner = rng.pick(['twilio', 'calendly', 'hubspot', 'callrail', 'facebook', 'gohighlevel']);
  const target = targets[partner]!;
  const url = target.webhook_url;
  const forged = rng.next() < 0.5;
  const garbage = rng.pick([
    truncate(JSON.stringify(fixture('callrail', 'post-call.json')), rng),
    rng.bytes(1 + rng.int(200)).toString('latin1'),
    '{"event":"invitee.created"}',
    '[{"eventId":"x"}]',
    '[]',
    '{}',
  ]);
  switch (partner) {
    case 'twilio': {
      const params = new URLSearchParams(fixtureText('twilio', 'inbound-sms.txt').trim());
      params.delete(rng.pick(['MessageSid', 'From', 'AccountSid']));
      const body = params.toString();
      const signature = forged
        ? rng.bytes(20).toString('base64')
        : getExpectedTwilioSignature(SECRETS.twilio, url, Object.fromEntries(params));
      return {
        kind: `twilio-${forged ? 'forged' : 'missing-field'}`,
        url,
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      };
    }
    case 'calendly': {
      const stale = !forged && rng.next() < 0.3;
      const t = Math.floor(Date.now() / 1000) - (stale ? 181 + rng.int(10_000) : 0);
      const body = stale ? JSON.stringify(fixture('calendly', 'invitee-created.json')) : garbage;
      const v1 = forged
        ? rng.bytes(32).toString('hex')
        : createHmac('sha256', SECRETS.calendly).update(`${t}.${body}`).digest('hex');
      return {
        kind: `calendly-${forged ? 'forged' : stale ? 'stale' : 'malformed'}`,
        url,
        body,
        headers: { 'content-type': 'application/json', 'calendly-webhook-signature': `t=${t},v1=${v1}` },
      };
    }
    case 'hubspot': {
      const stale = !forged && rng.next() < 0.3;
      const at = Date.now() - (stale ? 300_001 + rng.int(1e7) : 0);
      const body = stale ? JSON.stringify(fixture('hubspot', 'contact-creation.json')) : garbage;
      const signature = forged
        ? rng.bytes(32).toString('base64')
        : createHmac('sha256', SECRETS.hubspot).update(`POST${url}${body}${at}`).digest('base64');
      return {
        kind: `hubspot-${forged ? 'forged' : stale ? 'stale' : 'malformed'}`,
        url,
        body,
        headers: {
          'content-type': 'application/json',
          'x-hubspot-signature-v3': signature,
          'x-hubspot-request-timestamp': String(at),
        },
      };
    }
    case 'callrail': {
      const signature = forged
        ? rng.bytes(20).toString('base64')
        : createHmac('sha1', SECRETS.callrail).update(garbage).digest('base64');
      return {
        kind: `callrail-${forged ? 'forged' : 'malformed'}`,
        url,
        body: garbage,
        headers: { 'content-type': 'application/json', signature },
      };
    }
    case 'facebook': {
      const body = rng.pick([
        garbage.replace('[]', '[1]'),
        '{"object":"user","entry":[]}',
        '{"object":"page","entry":[]}',
      ]);
      const signature = forged
        ? rng.bytes(32).toString('hex')
        : createHmac('sha256', SECRETS.facebook).update(body).digest('hex');
      return {
        kind: `facebook-${forged ? 'forged' : 'malformed'}`,
        url,
        body,
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${signature}` },
      };
    }
    default: {
      const stale = !forged && rng.next() < 0.3;
      const body = stale
        ? JSON.stringify({
            ...fixture('gohighlevel', 'contact-create.json'),
            timestamp: new Date(Date.now() - 301_000 - rng.int(1e7)).toISOString(),
          })
        : garbage;
      const signature = forged
        ? rng.bytes(64).toString('base64')
        : sign(null, Buffer.from(body), ghlKeys.privateKey).toString('base64');
      return {
        kind: `gohighlevel-${forged ? 'forged' : stale ? 'stale' : 'malformed'}`,
        url,
        body,
        headers: { 'content-type': 'application/json', 'x-ghl-signature': signature },
      };
    }
  }
}

function routingRequest(rng: ReturnType<typeof prng>): FuzzRequest {
  const target = targets[rng.pick(Object.keys(targets))]!;
  const body = JSON.stringify(fixture('resman', 'status-update.json'));
  const url = rng.pick([
    `${harness.ingestUrl}/webhooks/${target.partner === 'resman' ? 'webform' : 'resman'}/${target.id}`,
    `${harness.ingestUrl}/webhooks/yardi/${target.id}`,
    `${harness.ingestUrl}/webhooks/resman/00000000-0000-4000-8000-${String(rng.int(1e12)).padStart(12, '0')}`,
    `${harness.ingestUrl}/webhooks/resman/${encodeURIComponent("'; DROP TABLE leads; --")}`,
    `${harness.ingestUrl}/webhooks/__proto__/${target.id}`,
  ]);
  return {
    kind: 'wrong-route',
    url,
    body,
    headers: standardWebhookHeaders(targets.resman!.webhook_secret!, body),
  };
}

function oversized(rng: ReturnType<typeof prng>): FuzzRequest {
  const body = JSON.stringify({
    ...fixture('webform', 'inquiry.json'),
    message: 'x'.repeat(262_145 + rng.int(100_000)),
  });
  return {
    kind: 'oversized',
    url: targets.webform!.webhook_url,
    body,
    headers: { 'content-type': 'application/json' },
  };
}

async function counts() {
  const inbox = await harness.pool.query(
    'SELECT count(*)::int AS n FROM inbox_events WHERE workspace_id = $1',
    [workspaceId],
  );
  const history = await harness.pool.query(
    'SELECT count(*)::int AS n FROM status_history WHERE workspace_id = $1',
    [workspaceId],
  );
  const leads = await harness.pool.query('SELECT count(*)::int AS n FROM leads WHERE workspace_id = $1', [
    workspaceId,
  ]);
  return { inbox: inbox.rows[0].n, history: history.rows[0].n, leads: leads.rows[0].n };
}

test(`${REQUESTS} malformed, truncated, oversized, wrongly signed, stale and replayed requests: all 4xx, nothing stored or applied`, async () => {
  // One real event first: its exact bytes and headers are replayed at the end.
  const acceptedBody = JSON.stringify(
    fixture('webform', 'inquiry.json', { email: uniqueEmail('fuzz'), phone: undefined }),
  );
  const acceptedHeaders = standardWebhookHeaders(targets.webform!.webhook_secret!, acceptedBody);
  const accepted = await post(targets.webform!.webhook_url, acceptedBody, acceptedHeaders);
  expect(accepted.status).toBe(200);
  // Its history row is written by the journey: wait for it so the counts below are settled.
  await waitFor(
    'the accepted web form to reach history',
    async () => (await historyRows(harness, accepted.body.lead_id)).length > 0,
  );
  const before = await counts();

  const rng = prng(SEED);
  const requests: FuzzRequest[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const roll = rng.next();
    requests.push(
      roll < 0.55
        ? standardRequests(rng)
        : roll < 0.9
          ? partnerSchemeRequests(rng)
          : roll < 0.985
            ? routingRequest(rng)
            : oversized(rng),
    );
  }

  const answers: { kind: string; answer: Answer }[] = [];
  // A few at a time: the service sees concurrent garbage, as it would in the wild.
  for (let i = 0; i < requests.length; i += 8) {
    const batch = requests.slice(i, i + 8);
    answers.push(
      ...(await Promise.all(
        batch.map(async (request) => ({
          kind: request.kind,
          answer: await post(request.url, request.body, request.headers),
        })),
      )),
    );
  }

  const unexpected = answers.filter(({ answer }) => answer.status < 400 || answer.status >= 500);
  expect(
    unexpected.map(({ kind, answer }) => `${kind}: ${answer.status} ${answer.text.slice(0, 200)}`),
  ).toEqual([]);
  const statuses = new Set(answers.map(({ answer }) => answer.status));
  for (const status of statuses) expect([400, 401, 403, 404, 413, 422]).toContain(status);
  // The mix really covered each kind of refusal.
  for (const status of [400, 401, 404, 413, 422]) expect(statuses).toContain(status);
  expect(new Set(answers.map((a) => a.kind)).size).toBeGreaterThan(25);

  // Still up and ready, and nothing got in: no inbox row, no lead, no history row.
  expect((await call(`${harness.ingestUrl}/healthz`, 'GET', undefined)).status).toBe(200);
  expect((await call(`${harness.ingestUrl}/readyz`, 'GET', undefined)).status).toBe(200);
  expect(await counts()).toEqual(before);

  // The accepted request replayed byte for byte is only a duplicate: nothing new either.
  const replay = await post(targets.webform!.webhook_url, acceptedBody, acceptedHeaders);
  expect(replay).toMatchObject({ status: 200, body: { duplicate: true, lead_id: accepted.body.lead_id } });
  expect(await counts()).toEqual(before);
});
