// A local stand-in for a senior-living referral partner (A Place for Mom or Caring.com) speaking leadrelay's
// referral format (docs/partners/apfm.md): Bearer API key on every request; status and move-in reports
// POSTed to /referrals/{id}/status signed with Standard Webhooks (a repeated webhook-id is a duplicate);
// GET /referrals/{id}; GET /referrals?since&page_token&limit paged by next_page_token. Errors are the
// format's `{ error: { code, message, details } }`. State is in memory; faults, `down` and `ignoreWrites`
// come from ./partner.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { partnerValues } from '../../shared/lifecycle';
import { send, startPartnerSandbox, type PartnerSandbox, type SandboxHandlerContext } from './partner';

export type ReferralSandboxPartner = 'apfm' | 'caring';

export interface SandboxReferral {
  referral_id: string;
  community_id?: string;
  referred_at: string;
  contact: {
    first_name?: string;
    last_name?: string;
    email?: string;
    phone?: string;
    relationship?: string;
  };
  resident?: { first_name?: string; last_name?: string; age?: number };
  advisor?: { name: string; email?: string; phone?: string };
  care_type?: string;
  budget_monthly?: number;
  move_in_timeframe?: string;
  notes?: string;
  status: string;
  status_changed_at: string;
  status_reported_by: 'partner' | 'community';
  move_in_date?: string;
  updated_at: string;
}

/** One report a community sent, as received. */
export interface SandboxReport {
  webhookId: string;
  referralId: string;
  body: Record<string, unknown>;
  /** False when the sandbox answered 2xx but ignored it (`ignoreWrites`) or it repeated a webhook-id. */
  applied: boolean;
}

export interface ReferralSandboxOptions {
  partner: ReferralSandboxPartner;
  port?: number;
  apiKey?: string;
  /** The Standard Webhooks secret reports must be signed with (`whsec_…`). */
  apiSecret?: string;
  /** Referrals per page of GET /referrals when the caller asks for more (tests page with small values). */
  maxPageSize?: number;
}

export interface ReferralSandbox extends PartnerSandbox {
  partner: ReferralSandboxPartner;
  apiKey: string;
  apiSecret: string;
  referrals: Map<string, SandboxReferral>;
  reports: SandboxReport[];
  /** A referral the partner sent a community (status: the partner's first word, reported by the partner). */
  seedReferral(input: Partial<SandboxReferral> & { referral_id?: string }): SandboxReferral;
  /** The partner changes a referral's status itself (an advisor's update). */
  partnerUpdate(referralId: string, status: string, at?: string): SandboxReferral;
  /** Empty state, no faults, an empty request log. */
  reset(): void;
}

const MOVE_IN: Record<ReferralSandboxPartner, string> = { apfm: 'move_in', caring: 'moved_in' };

function fail(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  fields?: { field: string; message: string }[],
): void {
  send(res, status, { error: { code, message, details: fields ? { fields } : {} } });
}

const isIso = (value: unknown) =>
  typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value));

export async function startReferralSandbox(options: ReferralSandboxOptions): Promise<ReferralSandbox> {
  const { partner } = options;
  const apiKey = options.apiKey ?? `${partner}_live_${randomBytes(16).toString('hex')}`;
  const apiSecret = options.apiSecret ?? `whsec_${randomBytes(32).toString('base64')}`;
  const maxPageSize = options.maxPageSize ?? 100;
  const statuses = partnerValues(partner);
  const referrals = new Map<string, SandboxReferral>();
  const reports: SandboxReport[] = [];
  const seenMessages = new Set<string>();

  function report(context: SandboxHandlerContext, referralId: string): void {
    const { req, res, body, sandbox } = context;
    const headers = {
      'webhook-id': String(req.headers['webhook-id'] ?? ''),
      'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
      'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
    };
    try {
      new Webhook(apiSecret).verify(body, headers);
    } catch (error) {
      return fail(res, 401, 'invalid_signature', `webhook signature rejected: ${(error as Error).message}`);
    }
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return fail(res, 400, 'validation_failed', 'request body is not valid JSON', [
        { field: 'body', message: 'invalid JSON' },
      ]);
    }
    const fields: { field: string; message: string }[] = [];
    if (json.type !== 'referral.status_changed' && json.type !== 'referral.move_in')
      fields.push({ field: 'type', message: 'referral.status_changed or referral.move_in' });
    if (json.referral_id !== referralId) fields.push({ field: 'referral_id', message: 'must match the URL' });
    if (!isIso(json.changed_at)) fields.push({ field: 'changed_at', message: 'an ISO 8601 date and time' });
    if (json.type === 'referral.status_changed' && !statuses.includes(String(json.status)))
      fields.push({ field: 'status', message: `one of ${statuses.join(', ')}` });
    if (json.type === 'referral.move_in' && !/^\d{4}-\d{2}-\d{2}$/.test(String(json.move_in_date)))
      fields.push({ field: 'move_in_date', message: 'a date, YYYY-MM-DD' });
    if (fields.length > 0) {
      return fail(
        res,
        422,
        'validation_failed',
        `invalid body: ${fields.map((f) => f.field).join(', ')}`,
        fields,
      );
    }
    const referral = referrals.get(referralId);
    if (!referral) return fail(res, 404, 'not_found', `no referral ${referralId} for this community`);
    const duplicate = seenMessages.has(headers['webhook-id']);
    const applied = !duplicate && !sandbox.ignoreWrites;
    reports.push({ webhookId: headers['webhook-id'], referralId, body: json, applied });
    if (applied) {
      seenMessages.add(headers['webhook-id']);
      const now = new Date().toISOString();
      referral.status = json.type === 'referral.move_in' ? MOVE_IN[partner] : String(json.status);
      referral.status_changed_at = String(json.changed_at);
      referral.status_reported_by = 'community';
      if (json.type === 'referral.move_in') referral.move_in_date = String(json.move_in_date);
      referral.updated_at = now;
    }
    send(res, 200, {
      referral_id: referralId,
      status: referral.status,
      status_changed_at: referral.status_changed_at,
      duplicate,
    });
  }

  function list(context: SandboxHandlerContext): void {
    const { res, url } = context;
    const since = url.searchParams.get('since');
    if (!isIso(since)) {
      return fail(res, 422, 'validation_failed', 'invalid query: since', [
        { field: 'since', message: 'an ISO 8601 date and time' },
      ]);
    }
    const limit = Math.min(Number(url.searchParams.get('limit') ?? maxPageSize) || maxPageSize, maxPageSize);
    const key = (r: SandboxReferral) => `${r.updated_at}|${r.referral_id}`;
    let after = '';
    const token = url.searchParams.get('page_token');
    if (token) {
      try {
        after = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after: string }).after;
      } catch {
        return fail(res, 422, 'validation_failed', 'invalid query: page_token', [
          { field: 'page_token', message: 'not a page token of this API' },
        ]);
      }
    }
    const sinceMs = Date.parse(since!);
    const matching = [...referrals.values()]
      .filter((r) => Date.parse(r.updated_at) >= sinceMs && key(r) > after)
      .sort((a, b) => (key(a) < key(b) ? -1 : 1));
    const page = matching.slice(0, limit);
    const more = matching.length > limit;
    send(res, 200, {
      referrals: page,
      next_page_token: more
        ? Buffer.from(JSON.stringify({ after: key(page.at(-1)!) })).toString('base64url')
        : null,
    });
  }

  const sandbox = await startPartnerSandbox({
    port: options.port,
    errorBody: (status, message) => ({
      contentType: 'application/json',
      body: JSON.stringify({
        error: { code: status === 429 ? 'rate_limited' : 'unavailable', message, details: {} },
      }),
    }),
    handle(context) {
      const { req, res, url } = context;
      if (req.headers.authorization !== `Bearer ${apiKey}`) {
        return fail(res, 401, 'unauthorized', 'missing or invalid API key');
      }
      const path = url.pathname.replace(/\/+$/, '');
      const statusPath = /^\/referrals\/([^/]+)\/status$/.exec(path);
      if (req.method === 'POST' && statusPath) return report(context, decodeURIComponent(statusPath[1]!));
      const one = /^\/referrals\/([^/]+)$/.exec(path);
      if (req.method === 'GET' && one) {
        const referral = referrals.get(decodeURIComponent(one[1]!));
        if (!referral) return fail(res, 404, 'not_found', `no referral ${one[1]} for this community`);
        return send(res, 200, referral);
      }
      if (req.method === 'GET' && path === '/referrals') return list(context);
      return fail(res, 404, 'not_found', `no route ${req.method} ${url.pathname}`);
    },
  });

  return Object.assign(sandbox, {
    partner,
    apiKey,
    apiSecret,
    referrals,
    reports,
    seedReferral(input: Partial<SandboxReferral> & { referral_id?: string }) {
      const now = new Date().toISOString();
      const referredAt = input.referred_at ?? now;
      const referral: SandboxReferral = {
        referral_id: input.referral_id ?? `${partner.toUpperCase()}-${randomBytes(4).readUInt32BE()}`,
        referred_at: referredAt,
        contact: input.contact ?? { first_name: 'Sample', email: 'family@example.com' },
        status: statuses[0]!,
        status_changed_at: referredAt,
        status_reported_by: 'partner',
        updated_at: referredAt,
        ...input,
      };
      referrals.set(referral.referral_id, referral);
      return referral;
    },
    partnerUpdate(referralId: string, status: string, at = new Date().toISOString()) {
      const referral = referrals.get(referralId);
      if (!referral) throw new Error(`no sandbox referral ${referralId}`);
      referral.status = status;
      referral.status_changed_at = at;
      referral.status_reported_by = 'partner';
      referral.updated_at = at;
      return referral;
    },
    reset() {
      referrals.clear();
      reports.length = 0;
      seenMessages.clear();
      sandbox.requests.items.length = 0;
      sandbox.faults.length = 0;
      sandbox.down = false;
      sandbox.ignoreWrites = false;
    },
  });
}
