// Analytics over a hand-made history with known times (funnel, time in status, transitions, speed-to-lead,
// grouping, CSV), and once through the real journey.
import { randomUUID } from 'node:crypto';
import { call, registerWorkspace, startHarness, type Harness } from '../support/harness';
import { journeyWhere } from '../support/ingest';
import {
  ANALYTICS_CONCURRENCY,
  ANALYTICS_RETRY_AFTER_SECONDS,
  ANALYTICS_SLOT_LOCK_CLASS,
} from '../../data/analytics';

let harness: Harness;
let key: string;
let workspaceId: string;

const T0 = Date.parse('2025-03-03T12:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const RANGE = 'from_date=2025-03-01&to_date=2025-03-31';

/** A lead created at T0 and its applied history: [status, milliseconds after T0]. */
async function seedLead(args: {
  source: string;
  sources?: string[];
  property?: string;
  steps: [string, number][];
}): Promise<string> {
  const id = randomUUID();
  await harness.pool.query(
    `INSERT INTO leads (id, workspace_id, property_id, source, sources, email, email_normalized, status, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8)`,
    [
      id,
      workspaceId,
      args.property ?? null,
      args.source,
      args.sources ?? [args.source],
      `${id}@example.com`,
      args.steps[args.steps.length - 1]?.[0] ?? 'new',
      new Date(T0),
    ],
  );
  let previous: string | null = null;
  let seq = 1;
  for (const [status, after] of [['new', 0] as [string, number], ...args.steps]) {
    await harness.pool.query(
      `INSERT INTO status_history (idempotency_key, workspace_id, lead_id, journey, seq, entry_type, old_status,
                                   new_status, source, direction, created_at)
       VALUES ($1, $2, $3, 1, $4, 'applied', $5, $6, 'staff', 'inbound', $7)`,
      [randomUUID(), workspaceId, id, seq++, previous, status, new Date(T0 + after)],
    );
    previous = status;
  }
  return id;
}

beforeAll(async () => {
  harness = await startHarness();
  ({ apiKey: key, workspaceId } = await registerWorkspace(harness.apiUrl, { timezone: 'UTC' }));
  await seedLead({
    source: 'apfm',
    property: 'p1',
    steps: [
      ['contacted', 10 * MIN],
      ['qualified', HOUR],
      ['tour_scheduled', DAY],
      ['toured', 2 * DAY],
      ['application', 3 * DAY],
      ['placed', 4 * DAY],
    ],
  });
  await seedLead({
    source: 'website',
    property: 'p1',
    steps: [
      ['contacted', 30 * MIN],
      ['lost', DAY],
    ],
  });
  await seedLead({ source: 'caring', sources: ['caring', 'apfm'], property: 'p2', steps: [] });
  await seedLead({
    source: 'website',
    steps: [
      ['tour_scheduled', 2 * HOUR],
      ['toured', DAY],
    ],
  });
});
afterAll(async () => {
  await harness?.stop();
});

const get = (path: string, apiKey = key) => call(`${harness.apiUrl}/api/v1/analytics${path}`, 'GET', apiKey);

describe('GET /api/v1/analytics/funnel', () => {
  test('counts each lead up to the furthest stage it reached, with stage conversion rates', async () => {
    const answer = await get(`/funnel?${RANGE}`);
    expect(answer.status).toBe(200);
    expect(answer.body.total_leads).toBe(4);
    expect(answer.body.stages).toEqual([
      { stage: 'new', count: 4, conversion_rate: 100, rate_from_start: 100 },
      { stage: 'contacted', count: 3, conversion_rate: 75, rate_from_start: 75 },
      { stage: 'qualified', count: 2, conversion_rate: 66.67, rate_from_start: 50 },
      { stage: 'tour_scheduled', count: 2, conversion_rate: 100, rate_from_start: 50 },
      { stage: 'toured', count: 2, conversion_rate: 100, rate_from_start: 50 },
      { stage: 'application', count: 1, conversion_rate: 50, rate_from_start: 25 },
      { stage: 'won', count: 1, conversion_rate: 100, rate_from_start: 25 },
    ]);
    expect(answer.body.won).toEqual({ leased: 0, placed: 1 });
    expect(answer.body.lost).toBe(1);
  });

  test('groups by source, by every partner that touched a lead, and by property; filters by partner', async () => {
    const counts = (body: any) =>
      Object.fromEntries(body.groups.map((g: any) => [g.key, [g.total_leads, g.stages[1].count]]));
    expect(counts((await get(`/funnel?${RANGE}&group_by=source`)).body)).toEqual({
      website: [2, 2],
      apfm: [1, 1],
      caring: [1, 0],
    });
    expect(counts((await get(`/funnel?${RANGE}&group_by=partner`)).body)).toEqual({
      '(none)': [2, 2],
      apfm: [2, 1],
      caring: [1, 0],
    });
    expect(counts((await get(`/funnel?${RANGE}&group_by=property`)).body)).toEqual({
      p1: [2, 2],
      p2: [1, 0],
      '(none)': [1, 1],
    });
    const apfm = await get(`/funnel?${RANGE}&partner=apfm`);
    expect(apfm.body.total_leads).toBe(2);
  });

  test('an empty range counts nothing', async () => {
    const answer = await get('/funnel?from_date=2020-01-01&to_date=2020-01-31');
    expect(answer.body.total_leads).toBe(0);
  });
});

describe('GET /api/v1/analytics/time-in-status', () => {
  test('averages, medians and p90 of finished stays (lead() over each lead’s rows); open stays counted apart', async () => {
    const answer = await get(`/time-in-status?${RANGE}`);
    expect(answer.status).toBe(200);
    const byStatus = Object.fromEntries(answer.body.statuses.map((s: any) => [s.status, s]));
    expect(byStatus.new).toEqual({
      status: 'new',
      stays: 3,
      open: 1,
      average_seconds: 3200,
      median_seconds: 1800,
      p90_seconds: 6120,
    });
    expect(byStatus.contacted).toMatchObject({ stays: 2, average_seconds: (3000 + 84600) / 2 });
    expect(byStatus.toured).toMatchObject({ stays: 1, open: 1, average_seconds: DAY / 1000 });
    expect(byStatus.placed).toBeUndefined();
    expect(answer.body.average_time_in_status.qualified).toBe(23 * 3600);
    expect(answer.body.unit).toBe('seconds');
  });

  test('grouped by property', async () => {
    const answer = await get(`/time-in-status?${RANGE}&group_by=property`);
    const p1 = answer.body.groups.find((g: any) => g.key === 'p1');
    expect(p1.statuses.find((s: any) => s.status === 'new')).toMatchObject({
      stays: 2,
      average_seconds: 1200,
    });
  });
});

describe('GET /api/v1/analytics/transitions', () => {
  test('lists the most common transitions first and counts every change', async () => {
    const answer = await get(`/transitions?${RANGE}&limit=3`);
    expect(answer.body.total_status_changes).toBe(10);
    expect(answer.body.most_common_transitions).toEqual([
      { from: 'new', to: 'contacted', count: 2 },
      { from: 'tour_scheduled', to: 'toured', count: 2 },
      { from: 'application', to: 'placed', count: 1 },
    ]);
  });
});

describe('GET /api/v1/analytics/speed-to-lead', () => {
  test('median and p90 from inquiry to first contact, by source', async () => {
    const answer = await get(`/speed-to-lead?${RANGE}&group_by=source`);
    expect(answer.body).toMatchObject({
      leads: 4,
      contacted: 3,
      not_contacted: 1,
      median_seconds: 1800,
      p90_seconds: 6120,
      unit: 'seconds',
    });
    const website = answer.body.groups.find((g: any) => g.key === 'website');
    expect(website).toMatchObject({ leads: 2, contacted: 2, median_seconds: (1800 + 7200) / 2 });
  });
});

describe('CSV export', () => {
  test.each(['funnel', 'time-in-status', 'transitions', 'speed-to-lead'])(
    '%s answers text/csv when asked',
    async (name) => {
      const response = await fetch(`${harness.apiUrl}/api/v1/analytics/${name}?${RANGE}&group_by=source`, {
        headers: { authorization: `Bearer ${key}`, accept: 'text/csv' },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(response.headers.get('content-disposition')).toBe(`attachment; filename="${name}.csv"`);
      const lines = (await response.text()).trim().split('\r\n');
      expect(lines[0]!.startsWith('group,')).toBe(true);
      expect(lines.length).toBeGreaterThan(2);
      expect(lines.some((line) => line.startsWith('website,'))).toBe(true);
    },
  );

  test('the funnel CSV has one row per group and stage', async () => {
    const response = await fetch(`${harness.apiUrl}/api/v1/analytics/funnel?${RANGE}`, {
      headers: { authorization: `Bearer ${key}`, accept: 'text/csv' },
    });
    const lines = (await response.text()).trim().split('\r\n');
    expect(lines).toContain('all,contacted,3,75,75');
    expect(lines).toContain('all,placed,1,,');
  });
});

describe('at most a few analytics queries per workspace at once', () => {
  /** Holds a workspace's analytics slots from a connection of the test's own, as statements in flight would. */
  async function holdSlots(workspace: string, slots: number[]) {
    const client = await harness.pool.connect();
    const key = (slot: number) =>
      client.query(`SELECT pg_advisory_lock($2::int, hashtext($1::text || ':' || $3::int))`, [
        workspace,
        ANALYTICS_SLOT_LOCK_CLASS,
        slot,
      ]);
    for (const slot of slots) await key(slot);
    return {
      release: async (slot: number) =>
        client.query(`SELECT pg_advisory_unlock($2::int, hashtext($1::text || ':' || $3::int))`, [
          workspace,
          ANALYTICS_SLOT_LOCK_CLASS,
          slot,
        ]),
      done: async () => {
        await client.query('SELECT pg_advisory_unlock_all()');
        client.release();
      },
    };
  }

  test('past the limit: 429 rate_limited with Retry-After; a freed slot answers again; other workspaces unaffected', async () => {
    const slots = Array.from({ length: ANALYTICS_CONCURRENCY }, (_, slot) => slot);
    const held = await holdSlots(workspaceId, slots);
    try {
      for (const path of ['/funnel', '/time-in-status', '/transitions', '/speed-to-lead']) {
        const refused = await get(`${path}?${RANGE}`);
        expect(refused.status).toBe(429);
        expect(refused.headers.get('retry-after')).toBe(String(ANALYTICS_RETRY_AFTER_SECONDS));
        expect(refused.body.error).toMatchObject({
          code: 'rate_limited',
          details: { limit: ANALYTICS_CONCURRENCY, retry_after: ANALYTICS_RETRY_AFTER_SECONDS },
        });
      }
      const conversions = await call(`${harness.apiUrl}/api/v1/conversions/analytics?${RANGE}`, 'GET', key);
      expect(conversions.status).toBe(429);
      const other = await registerWorkspace(harness.apiUrl);
      expect((await get(`/funnel?${RANGE}`, other.apiKey)).status).toBe(200);
      await held.release(ANALYTICS_CONCURRENCY - 1);
      const answered = await get(`/funnel?${RANGE}`);
      expect(answered.status).toBe(200);
      expect(answered.body.total_leads).toBe(4);
    } finally {
      await held.done();
    }
  });
});

test('a workspace sees only its own leads in analytics', async () => {
  const other = await registerWorkspace(harness.apiUrl);
  const answer = await get(`/funnel?${RANGE}`, other.apiKey);
  expect(answer.body.total_leads).toBe(0);
});

test('a lead moved through the real journey shows in the funnel and speed-to-lead', async () => {
  const ws = await registerWorkspace(harness.apiUrl);
  const created = await call(`${harness.apiUrl}/api/v1/leads`, 'POST', ws.apiKey, {
    source: 'webform',
    email: `${randomUUID()}@example.com`,
  });
  await journeyWhere(
    harness,
    ws.workspaceId,
    created.body.id,
    (s) => s.counters.events > 0,
    'its inquiry applied',
  );
  const moved = await call(`${harness.apiUrl}/api/v1/leads/${created.body.id}/status`, 'PUT', ws.apiKey, {
    new_status: 'contacted',
  });
  expect(moved.status).toBe(200);
  const funnel = await get('/funnel', ws.apiKey);
  expect(funnel.body.stages.slice(0, 2).map((s: any) => s.count)).toEqual([1, 1]);
  const speed = await get('/speed-to-lead', ws.apiKey);
  expect(speed.body).toMatchObject({ leads: 1, contacted: 1 });
  expect(speed.body.median_seconds).toBeGreaterThanOrEqual(0);
});

test('analytics need the read permission', async () => {
  const convertOnly = await registerWorkspace(harness.apiUrl, { permissions: ['convert'] });
  for (const name of ['funnel', 'time-in-status', 'transitions', 'speed-to-lead']) {
    expect((await get(`/${name}`, convertOnly.apiKey)).status).toBe(403);
  }
});
