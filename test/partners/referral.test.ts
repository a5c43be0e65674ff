// The referral adapters' outbound side (A Place for Mom and Caring.com, leadrelay's referral format) against
// the referral sandbox over real HTTP: signed status and move-in reports read back, referral-only rules, the
// format's errors and faults, and polling page by page.
import { Webhook } from 'standardwebhooks';
import { apfm } from '../../activities/partners/apfm';
import { caring } from '../../activities/partners/caring';
import type {
  FetchResult,
  PartnerAdapter,
  PartnerConnection,
  PartnerLead,
  StatusPush,
} from '../../activities/partners/types';
import {
  startReferralSandbox,
  type ReferralSandbox,
  type SandboxReferral,
} from '../../infra/sandbox/referral';
import { fromCanonical, type LeadStatus } from '../../shared/lifecycle';
import { fixture } from '../support/fixtures';
import { partnerError } from './support';

const CASES: { partner: 'apfm' | 'caring'; adapter: PartnerAdapter; moveIn: string; tour: string }[] = [
  { partner: 'apfm', adapter: apfm, moveIn: 'move_in', tour: 'pre_tour' },
  { partner: 'caring', adapter: caring, moveIn: 'moved_in', tour: 'tour_scheduled' },
];

describe.each(CASES)('$partner', ({ partner, adapter, moveIn, tour }) => {
  const outbound = adapter.outbound!;
  const page = fixture<{ referrals: SandboxReferral[] }>(partner, 'referrals-page.json');
  const referralFixture = page.referrals[0]!;
  let sandbox: ReferralSandbox;

  beforeAll(async () => {
    sandbox = await startReferralSandbox({ partner, maxPageSize: 2 });
  });
  afterAll(async () => {
    await sandbox?.close();
  });
  beforeEach(() => sandbox.reset());

  function connection(
    overrides: {
      config?: Record<string, unknown>;
      credentials?: Record<string, string>;
      timeoutMs?: number;
    } = {},
  ): PartnerConnection {
    return {
      integrationId: `int_${partner}`,
      workspaceId: 'ws_1',
      propertyId: 'oak',
      config: { base_url: sandbox.url, communities: { 'apfm-community-90211': 'elm' }, ...overrides.config },
      credentials: overrides.credentials ?? { api_key: sandbox.apiKey, api_secret: sandbox.apiSecret },
      timeoutMs: overrides.timeoutMs ?? 2000,
    };
  }

  function lead(overrides: Partial<PartnerLead> = {}): PartnerLead {
    return {
      leadId: '3b9d6f12-8a4c-4e7b-b5d1-0f2e9c8a7d64',
      firstName: referralFixture.contact.first_name,
      lastName: referralFixture.contact.last_name,
      email: referralFixture.contact.email,
      source: partner,
      createdAt: referralFixture.referred_at,
      externalId: referralFixture.referral_id,
      createdByUs: false,
      ...overrides,
    };
  }

  let pushCount = 0;
  function push(status: LeadStatus, overrides: Partial<StatusPush> = {}): StatusPush {
    pushCount += 1;
    return {
      lead: lead(),
      status,
      value: fromCanonical(partner, status)!,
      occurredAt: '2025-03-28T18:00:00.000Z',
      origin: 'staff',
      causationId: `evt_${partner}_${pushCount}`,
      idempotencyKey: `sync_${partner}_${pushCount}`,
      ...overrides,
    };
  }

  const seed = () => sandbox.seedReferral(structuredClone(referralFixture));
  const posts = () => sandbox.requests.items.filter((r) => r.method === 'POST');

  describe('pushStatus', () => {
    test('reports a status, signed with Standard Webhooks and the API key, and reads it back', async () => {
      const referral = seed();
      const report = push('tour_scheduled', { reason: 'Tour booked for Thursday 2pm' });
      const result = await outbound.pushStatus(connection(), report);
      expect(result).toEqual({
        outcome: 'success',
        code: 200,
        externalId: referral.referral_id,
        readBack: 'confirmed',
      });
      expect(referral).toMatchObject({ status: tour, status_reported_by: 'community' });
      const [post] = posts();
      expect(post!.url).toBe(`/referrals/${referral.referral_id}/status`);
      expect(post!.headers.authorization).toBe(`Bearer ${sandbox.apiKey}`);
      expect(post!.headers['webhook-id']).toBe(report.idempotencyKey);
      // Verifiable by the partner with the standard library and the shared secret.
      const verified = new Webhook(sandbox.apiSecret).verify(post!.body, {
        'webhook-id': String(post!.headers['webhook-id']),
        'webhook-timestamp': String(post!.headers['webhook-timestamp']),
        'webhook-signature': String(post!.headers['webhook-signature']),
      });
      expect(verified).toEqual({
        type: 'referral.status_changed',
        referral_id: referral.referral_id,
        status: tour,
        reason: 'Tour booked for Thursday 2pm',
        changed_at: '2025-03-28T18:00:00.000Z',
        origin: 'staff',
        causation_id: report.causationId,
      });
    });

    test('a move-in goes as a move-in report with its date', async () => {
      const referral = seed();
      const result = await outbound.pushStatus(connection(), push('placed', { origin: 'partner:resman' }));
      expect(result).toMatchObject({ outcome: 'success', readBack: 'confirmed' });
      expect(JSON.parse(posts()[0]!.body)).toEqual({
        type: 'referral.move_in',
        referral_id: referral.referral_id,
        move_in_date: '2025-03-28',
        changed_at: '2025-03-28T18:00:00.000Z',
        origin: 'partner:resman',
        causation_id: expect.any(String),
      });
      expect(referral).toMatchObject({ status: moveIn, move_in_date: '2025-03-28' });
    });

    test('a repeated report is a duplicate at the partner and changes nothing twice', async () => {
      const referral = seed();
      const report = push('contacted');
      await outbound.pushStatus(connection(), report);
      const changedAt = referral.updated_at;
      const again = await outbound.pushStatus(connection(), report);
      expect(again).toMatchObject({ outcome: 'success', readBack: 'confirmed' });
      expect(sandbox.reports.map((r) => r.applied)).toEqual([true, false]);
      expect(referral.updated_at).toBe(changedAt);
    });

    test('a lead that is not one of its referrals is skipped without a request', async () => {
      const result = await outbound.pushStatus(
        connection(),
        push('contacted', { lead: lead({ externalId: undefined }) }),
      );
      expect(result).toEqual({
        outcome: 'skipped',
        detail: `${partner} takes reports only on its own referrals; this lead has no ${partner} referral id`,
      });
      expect(sandbox.requests.items).toHaveLength(0);
    });

    test('a wrong API key or signing secret is final with the partner’s message', async () => {
      seed();
      const badKey = await partnerError(
        outbound.pushStatus(
          connection({ credentials: { api_key: 'wrong', api_secret: sandbox.apiSecret } }),
          push('contacted'),
        ),
      );
      expect(badKey).toMatchObject({ kind: 'final', details: { status: 401, partnerCode: 'unauthorized' } });
      expect(badKey.message).toContain('missing or invalid API key');
      const otherSecret = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
      const badSecret = await partnerError(
        outbound.pushStatus(
          connection({ credentials: { api_key: sandbox.apiKey, api_secret: otherSecret } }),
          push('contacted'),
        ),
      );
      expect(badSecret).toMatchObject({ kind: 'final', details: { partnerCode: 'invalid_signature' } });
    });

    test('a report the partner refuses (422) is final and names the field', async () => {
      seed();
      const error = await partnerError(
        outbound.pushStatus(connection(), push('contacted', { value: 'waitlisted' })),
      );
      expect(error).toMatchObject({
        kind: 'final',
        details: { status: 422, partnerCode: 'validation_failed' },
      });
      expect(error.message).toContain('invalid body: status (status: one of');
    });

    test('a referral the partner does not have is final', async () => {
      const error = await partnerError(outbound.pushStatus(connection(), push('contacted')));
      expect(error).toMatchObject({ kind: 'final', details: { status: 404, partnerCode: 'not_found' } });
    });

    test('429 with Retry-After, 5xx and a slow answer are retryable', async () => {
      seed();
      sandbox.faults.push({ status: 429, retryAfterSeconds: 30 });
      const limited = await partnerError(outbound.pushStatus(connection(), push('contacted')));
      expect(limited).toMatchObject({ kind: 'retryable', details: { status: 429, retryAfterMs: 30_000 } });
      sandbox.faults.push({ status: 500 });
      const broken = await partnerError(outbound.pushStatus(connection(), push('contacted')));
      expect(broken).toMatchObject({ kind: 'retryable', details: { status: 500 } });
      sandbox.faults.push({ delayMs: 800 });
      const slow = await partnerError(outbound.pushStatus(connection({ timeoutMs: 100 }), push('contacted')));
      expect(slow.kind).toBe('retryable');
      expect(slow.message).toContain('within 100 ms');
    });

    test('a report answered 200 but not applied is not_applied', async () => {
      const referral = seed();
      sandbox.ignoreWrites = true;
      const result = await outbound.pushStatus(
        connection(),
        push('lost', { reason: 'chose another community' }),
      );
      expect(result).toEqual({
        outcome: 'not_applied',
        code: 200,
        externalId: referral.referral_id,
        detail: `${partner} still shows referral ${referral.referral_id} as ${referral.status}, not lost`,
      });
    });

    test('missing credentials or base URL fail clearly before any request', async () => {
      const noSecret = await partnerError(
        outbound.pushStatus(connection({ credentials: { api_key: sandbox.apiKey } }), push('contacted')),
      );
      expect(noSecret.message).toBe(`${partner} credentials missing: api_secret`);
      const noBase = await partnerError(
        outbound.pushStatus(connection({ config: { base_url: undefined } }), push('contacted')),
      );
      expect(noBase.message).toBe(`${partner} config missing: base_url`);
      expect(sandbox.requests.items).toHaveLength(0);
    });
  });

  describe('fetchNew', () => {
    const NOW = new Date('2025-03-04T18:00:00Z');
    const polling = (extra: Record<string, unknown> = {}) =>
      connection({ config: { polling: true, ...extra } });

    async function pollAll(cursor: string | undefined, now: Date) {
      const pages: FetchResult[] = [];
      let next = cursor;
      for (;;) {
        const result = await outbound.fetchNew!(polling(), next, now);
        pages.push(result);
        next = result.cursor;
        if (!result.more) break;
      }
      return { pages, cursor: next!, events: pages.flatMap((p) => p.events) };
    }

    test('does nothing for a community that takes webhooks', async () => {
      const result = await outbound.fetchNew!(connection(), undefined, NOW);
      expect(result).toEqual({ events: [], cursor: NOW.toISOString(), more: false });
      expect(sandbox.requests.items).toHaveLength(0);
    });

    test('pages through new referrals; each becomes the same inquiry the webhook would make', async () => {
      for (const referral of page.referrals) sandbox.seedReferral(structuredClone(referral));
      sandbox.seedReferral({
        ...structuredClone(page.referrals[2]!),
        referral_id: `${partner}-old`,
        referred_at: '2025-01-10T10:00:00Z',
        status: 'lost',
        status_changed_at: '2025-03-04T17:50:00Z',
        updated_at: '2025-03-04T17:50:00Z',
      });
      const { pages, cursor, events } = await pollAll(undefined, NOW);
      expect(pages.map((p) => p.more)).toEqual([true, false]);
      expect(sandbox.requests.items[1]!.url).toContain('page_token=');
      expect(cursor).toBe(`since=${encodeURIComponent(NOW.toISOString())}`);

      const created = events.filter((e) => e.eventType === 'referral.created');
      expect(created.map((e) => e.partnerEventId)).toEqual(
        page.referrals.map((r) => `${r.referral_id}/created`),
      );
      // The poll maps a referral exactly as the referral.created webhook does.
      const first = page.referrals[0]!;
      const { status: _s, status_changed_at: _c, status_reported_by: _r, updated_at: _u, ...fields } = first;
      const webhook = adapter.inbound!.parse(
        {
          method: 'POST',
          rawBody: Buffer.from(JSON.stringify({ type: 'referral.created', ...fields })),
          headers: { 'webhook-id': 'msg_1' },
          query: {},
          urls: [],
          now: NOW,
        },
        {
          integrationId: `int_${partner}`,
          workspaceId: 'ws_1',
          propertyId: 'oak',
          config: connection().config,
        },
      );
      expect(created[0]!.lead!.create).toEqual(webhook[0]!.lead!.create);
      expect(created[0]!.lead!.create).toMatchObject({ externalIds: { [partner]: first.referral_id } });

      // Statuses the partner set beyond its first word are status events for the known lead; the old
      // referral's lost is one too, but it is not an inquiry (it was referred before the look-back).
      const statuses = events.filter((e) => e.eventType === 'referral.status_changed');
      const moved = page.referrals.filter((r) => r.status !== page.referrals[0]!.status);
      expect(statuses.map((e) => e.lead!.find![0])).toEqual([
        ...moved.map((r) => ({ by: 'external_id', partner, externalId: r.referral_id })),
        { by: 'external_id', partner, externalId: `${partner}-old` },
      ]);
      expect(statuses.at(-1)!.events).toEqual([
        { kind: 'partner_status', partner, value: 'lost', context: { referral_id: `${partner}-old` } },
      ]);
      expect(events.some((e) => e.lead?.create?.externalIds?.[partner] === `${partner}-old`)).toBe(false);
    });

    test('a re-poll answers the same ids; the partner’s later change is one event, our own reports none', async () => {
      for (const referral of page.referrals) sandbox.seedReferral(structuredClone(referral));
      const first = await pollAll(undefined, NOW);
      const again = await pollAll(undefined, NOW);
      expect(again.events.map((e) => e.partnerEventId)).toEqual(first.events.map((e) => e.partnerEventId));

      const target = page.referrals[0]!.referral_id;
      await outbound.pushStatus(
        connection(),
        push('contacted', {
          lead: lead({ externalId: target }),
          occurredAt: '2025-03-04T18:05:00.000Z',
        }),
      );
      sandbox.referrals.get(target)!.updated_at = '2025-03-04T18:05:00.000Z';
      const afterOurReport = await pollAll(first.cursor, new Date('2025-03-04T18:10:00Z'));
      // The partner lists the referral again (changed by our report), but the change is ours: no event.
      expect(sandbox.referrals.get(target)).toMatchObject({
        status: 'contacted',
        status_reported_by: 'community',
      });
      expect(afterOurReport.events).toEqual([]);

      sandbox.partnerUpdate(target, 'lost', '2025-03-04T18:20:00.000Z');
      const later = await pollAll(afterOurReport.cursor, new Date('2025-03-04T18:30:00Z'));
      expect(later.events.filter((e) => e.eventType === 'referral.status_changed')).toEqual([
        {
          partnerEventId: `${target}/status/lost@2025-03-04T18:20:00.000Z`,
          eventType: 'referral.status_changed',
          occurredAt: '2025-03-04T18:20:00.000Z',
          lead: { find: [{ by: 'external_id', partner, externalId: target }] },
          events: [{ kind: 'partner_status', partner, value: 'lost', context: { referral_id: target } }],
        },
      ]);
    });

    test('a referral the format cannot read is kept for operators, not sent to a journey', async () => {
      sandbox.seedReferral({ referral_id: `${partner}-bad`, contact: { first_name: 'No Contact' } });
      const { events } = await pollAll(undefined, new Date());
      expect(events).toEqual([
        expect.objectContaining({
          eventType: 'referral.invalid',
          events: [],
          note: expect.stringContaining('contact.email|phone'),
        }),
      ]);
      expect(events[0]!.lead).toBeUndefined();
    });
  });

  describe('testConnection', () => {
    test('answers with the API reachable, or the partner’s auth error', async () => {
      await expect(outbound.testConnection(connection())).resolves.toEqual({
        detail: `${partner} referral API reachable (reports will be signed)`,
      });
      const error = await partnerError(
        outbound.testConnection(connection({ credentials: { api_key: 'nope' } })),
      );
      expect(error).toMatchObject({ kind: 'final', details: { status: 401 } });
    });
  });
});
