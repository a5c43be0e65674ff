// Reconciliation by counting (SPEC section 8): acknowledged events = inbox rows = applied events (history rows and
// the journeys' own state) = side effects the sandboxes saw (SMS, email, partner writes), each exactly once.
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { Mailbox } from '../../infra/local/mailbox';
import type { HubSpotSandbox } from '../../infra/sandbox/hubspot';
import type { TwilioSandbox } from '../../infra/sandbox/twilio';
import { fromCanonical, type LeadStatus } from '../../shared/lifecycle';
import { leadWorkflowId } from '../../shared/ids';
import type { JourneyView } from '../../shared/journey/types';
import { leadStateQuery } from '../../shared/journey/messages';
import { STAFF_EMAIL, STAFF_PHONE } from '../../bench/workload';
import type { DeliveryLog } from './driver';

export interface ReconcileTarget {
  pool: pg.Pool;
  client: Client;
  twilio: TwilioSandbox;
  mailbox: Mailbox;
  hubspot?: HubSpotSandbox;
  workspaceId: string;
  /** The integration the webhooks came through; none for staff changes through the api (no inbox). */
  integrationId?: string;
  /** The status every acknowledged event moves its lead into. */
  status: LeadStatus;
}

export interface ChaosCounts {
  /** Distinct messages sent, and acknowledged (2xx at least once). */
  messages: number;
  acknowledged: number;
  abandoned: number;
  posts: number;
  answers: Record<string, number>;
  /** Undefined when the events came through the api, which has no inbox. */
  inboxRows?: number;
  inboxDelivered?: number;
  leads: number;
  /** Applied history rows into the status, and leads with more applied rows than their journey explains. */
  applied: number;
  overApplied: number;
  /** Journeys whose own state (query) is at the status. */
  journeysAtStatus: number;
  deliveries: { smsSent: number; emailSent: number; notSent: number };
  sms: { seen: number; leads: number };
  email: { seen: number; leads: number };
  /** Partner writes of the status (the sandbox's log), and the sync rows of pushes of that status. */
  partner?: { writes: number; leads: number; syncsSucceeded: number };
}

const LEAD_LINK = /\/api\/v1\/leads\/([0-9a-f-]{36})/;

/** Counts per lead id of sandbox items whose text links one of these leads. */
function perLead(
  texts: string[],
  leads: Set<string>,
): { seen: number; leads: number; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  let seen = 0;
  for (const text of texts) {
    const id = LEAD_LINK.exec(text)?.[1];
    if (!id || !leads.has(id)) continue;
    seen += 1;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return { seen, leads: counts.size, counts };
}

async function leadIds(target: ReconcileTarget): Promise<string[]> {
  const { rows } = await target.pool.query<{ id: string }>('SELECT id FROM leads WHERE workspace_id = $1', [
    target.workspaceId,
  ]);
  return rows.map((r) => r.id);
}

async function journeyStates(target: ReconcileTarget, ids: string[]): Promise<(JourneyView | undefined)[]> {
  const states: (JourneyView | undefined)[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = next++; i < ids.length; i = next++) {
        states[i] = await target.client.workflow
          .getHandle(leadWorkflowId(target.workspaceId, ids[i]!))
          .query(leadStateQuery)
          .catch(() => undefined);
      }
    }),
  );
  return states;
}

/** Partner writes of the status's partner value, per lead (HubSpot contact PATCHes answered 2xx). */
function partnerWrites(hubspot: HubSpotSandbox, status: LeadStatus, emails: Map<string, string>) {
  const value = fromCanonical('hubspot', status);
  const contactToLead = new Map<string, string>();
  for (const [leadId, email] of emails) {
    const contact = hubspot.contactByEmail(email);
    if (contact) contactToLead.set(contact.id, leadId);
  }
  const counts = new Map<string, number>();
  let writes = 0;
  for (const request of hubspot.requests.items) {
    if (request.method !== 'PATCH' || !request.status || request.status >= 300) continue;
    if (!value || !request.body.includes(`"${value}"`)) continue;
    const contactId = /\/crm\/v3\/objects\/contacts\/([^/?]+)/.exec(request.url)?.[1];
    const leadId = contactId ? contactToLead.get(contactId) : undefined;
    if (!leadId) continue;
    writes += 1;
    counts.set(leadId, (counts.get(leadId) ?? 0) + 1);
  }
  return { writes, leads: counts.size };
}

export async function count(target: ReconcileTarget, log: DeliveryLog): Promise<ChaosCounts> {
  const ids = await leadIds(target);
  const leads = new Set(ids);
  const q = async (sql: string, values: unknown[]) =>
    (await target.pool.query<{ n: number }>(sql, values)).rows[0]!.n;
  const inbox = (sql: string) =>
    target.integrationId ? q(sql, [target.integrationId]) : Promise.resolve(undefined);
  const [inboxRows, inboxDelivered, applied, overApplied] = await Promise.all([
    inbox('SELECT count(*)::int AS n FROM inbox_events WHERE integration_id = $1'),
    inbox(`SELECT count(*)::int AS n FROM inbox_events WHERE integration_id = $1 AND status = 'delivered'`),
    q(
      `SELECT count(*)::int AS n FROM status_history
        WHERE workspace_id = $1 AND entry_type = 'applied' AND new_status = $2`,
      [target.workspaceId, target.status],
    ),
    // Each lead's journey here is `new` then the status: two applied rows, never more.
    q(
      `SELECT count(*)::int AS n FROM (SELECT lead_id FROM status_history
        WHERE workspace_id = $1 AND entry_type = 'applied' GROUP BY lead_id HAVING count(*) > 2) x`,
      [target.workspaceId],
    ),
  ]);
  const deliveries = await target.pool.query<{ channel: string; status: string; n: number }>(
    `SELECT channel, status, count(*)::int AS n FROM notification_deliveries WHERE workspace_id = $1
      GROUP BY channel, status`,
    [target.workspaceId],
  );
  const sent = (channel: string) =>
    deliveries.rows.filter((r) => r.channel === channel && r.status === 'sent').reduce((a, r) => a + r.n, 0);
  const notSent = deliveries.rows.filter((r) => r.status !== 'sent').reduce((a, r) => a + r.n, 0);
  const states = await journeyStates(target, ids);
  const sms = perLead(
    target.twilio.messages.items.filter((m) => m.to === STAFF_PHONE).map((m) => m.body),
    leads,
  );
  const email = perLead(
    target.mailbox
      .messages()
      .filter((m) => m.to.includes(STAFF_EMAIL))
      .map((m) => m.text),
    leads,
  );
  let partner: ChaosCounts['partner'];
  if (target.hubspot) {
    const emails = await target.pool.query<{ id: string; email: string }>(
      'SELECT id, email FROM leads WHERE workspace_id = $1 AND email IS NOT NULL',
      [target.workspaceId],
    );
    const writes = partnerWrites(
      target.hubspot,
      target.status,
      new Map(emails.rows.map((r) => [r.id, r.email])),
    );
    const syncsSucceeded = await q(
      `SELECT count(*)::int AS n FROM partner_syncs
        WHERE workspace_id = $1 AND partner = 'hubspot' AND status = $2 AND outcome = 'success'`,
      [target.workspaceId, target.status],
    );
    partner = { ...writes, syncsSucceeded };
  }
  return {
    messages: log.messages,
    acknowledged: log.acknowledged.size,
    abandoned: log.abandoned,
    posts: log.posts,
    answers: log.answers,
    inboxRows,
    inboxDelivered,
    leads: ids.length,
    applied,
    overApplied,
    journeysAtStatus: states.filter((s) => s?.status === target.status).length,
    deliveries: { smsSent: sent('sms'), emailSent: sent('email'), notSent },
    sms: { seen: sms.seen, leads: sms.leads },
    email: { seen: email.seen, leads: email.leads },
    ...(partner ? { partner } : {}),
  };
}

/** Every way the counts disagree; empty when each acknowledged event was applied and acted on exactly once. */
export function mismatches(counts: ChaosCounts): string[] {
  const n = counts.acknowledged;
  const problems: string[] = [];
  const expect = (what: string, actual: number, expected = n) => {
    if (actual !== expected) problems.push(`${what}: ${actual}, expected ${expected}`);
  };
  expect('messages acknowledged', counts.acknowledged, counts.messages);
  // A fault may be answered 503 (retry later), never 500: that is a bug, not an outage.
  expect('answers 500', counts.answers['500'] ?? 0, 0);
  if (counts.inboxRows !== undefined) {
    expect('inbox rows', counts.inboxRows);
    expect('inbox rows delivered', counts.inboxDelivered ?? 0);
  }
  expect('leads', counts.leads);
  expect('applied status changes', counts.applied);
  expect('leads with a change applied twice', counts.overApplied, 0);
  expect('journeys at the status (query)', counts.journeysAtStatus);
  expect('SMS deliveries sent', counts.deliveries.smsSent);
  expect('email deliveries sent', counts.deliveries.emailSent);
  expect('deliveries not sent', counts.deliveries.notSent, 0);
  expect('SMS seen by the Twilio sandbox', counts.sms.seen);
  expect('leads with an SMS', counts.sms.leads);
  expect('emails seen by the mailbox', counts.email.seen);
  expect('leads with an email', counts.email.leads);
  if (counts.partner) {
    expect('partner stage writes seen by the HubSpot sandbox', counts.partner.writes);
    expect('leads written to the partner', counts.partner.leads);
    expect('partner syncs recorded as success', counts.partner.syncsSucceeded);
  }
  return problems;
}

/** The counts as the short table a chaos run prints. */
export function countsTable(name: string, counts: ChaosCounts): string {
  const rows: [string, string | number][] = [
    ['messages sent / acknowledged (2xx)', `${counts.messages} / ${counts.acknowledged}`],
    ['HTTP attempts (answers)', `${counts.posts} ${JSON.stringify(counts.answers)}`],
    [
      'inbox rows (delivered)',
      counts.inboxRows === undefined ? '— (api)' : `${counts.inboxRows} (${counts.inboxDelivered})`,
    ],
    ['leads', counts.leads],
    ['applied changes (leads over-applied)', `${counts.applied} (${counts.overApplied})`],
    ['journeys at the status (query)', counts.journeysAtStatus],
    [
      'deliveries sent: SMS / email (not sent)',
      `${counts.deliveries.smsSent} / ${counts.deliveries.emailSent} (${counts.deliveries.notSent})`,
    ],
    ['Twilio sandbox SMS (leads)', `${counts.sms.seen} (${counts.sms.leads})`],
    ['mailbox emails (leads)', `${counts.email.seen} (${counts.email.leads})`],
  ];
  if (counts.partner) {
    rows.push([
      'HubSpot sandbox stage writes (leads; syncs succeeded)',
      `${counts.partner.writes} (${counts.partner.leads}; ${counts.partner.syncsSucceeded})`,
    ]);
  }
  return [`| ${name} | count |`, '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}

/**
 * Waits until the system is quiet: no inbox row pending, every acknowledged event applied, no delivery or partner
 * push pending, and every journey idle by its own account (so nothing more is on its way). False at the deadline.
 */
export async function settle(
  target: ReconcileTarget,
  acknowledged: number,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const q = async (sql: string, values: unknown[]) =>
    (await target.pool.query<{ n: number }>(sql, values)).rows[0]!.n;
  while (Date.now() < deadline) {
    const quiet = await (async () => {
      try {
        const [pendingInbox, applied, pendingDeliveries, pendingSyncs] = await Promise.all([
          q(`SELECT count(*)::int AS n FROM inbox_events WHERE integration_id = $1 AND status = 'pending'`, [
            target.integrationId,
          ]),
          q(
            `SELECT count(*)::int AS n FROM status_history
              WHERE workspace_id = $1 AND entry_type = 'applied' AND new_status = $2`,
            [target.workspaceId, target.status],
          ),
          q(
            `SELECT count(*)::int AS n FROM notification_deliveries WHERE workspace_id = $1 AND status = 'pending'`,
            [target.workspaceId],
          ),
          q(`SELECT count(*)::int AS n FROM partner_syncs WHERE workspace_id = $1 AND outcome = 'pending'`, [
            target.workspaceId,
          ]),
        ]);
        if (pendingInbox > 0 || applied < acknowledged || pendingDeliveries > 0 || pendingSyncs > 0)
          return false;
        const states = await journeyStates(target, await leadIds(target));
        return states.every(
          (s) =>
            s !== undefined &&
            s.pendingEvents === 0 &&
            s.pendingEffects === 0 &&
            s.pendingDeliveries === 0 &&
            ((s as { pendingPushes?: number }).pendingPushes ?? 0) === 0,
        );
      } catch {
        // Postgres or Temporal still coming back.
        return false;
      }
    })();
    if (quiet) return true;
    await new Promise((resolveLater) => setTimeout(resolveLater, 500));
  }
  return false;
}
