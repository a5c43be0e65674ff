// What the links in prospect email do: the open pixel and signed click redirects of sequence email (recorded, the
// first of each handed to the lead's journey as an event; a click goes only where its token says), and the signed
// one-click unsubscribe (the lead gets no more email, and leaves its sequences at once).
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { readTrackingToken } from '../activities/notify/tracking';
import { readUnsubscribeToken } from '../activities/notify/unsubscribe';
import { optOutOfEmail } from '../data/leads';
import { AppError } from '../shared/errors';
import { emailTracking, recordEngagement, setEmailTracking } from '../data/engagements';
import type { KeyRing } from '../shared/crypto';
import type { JourneyClient } from './journeys';

export interface EmailLinkDeps {
  pool: pg.Pool;
  keyRing?: KeyRing;
  journeys: JourneyClient;
}

/** A 1×1 transparent GIF: what the pixel URL answers, valid token or not. */
export const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

async function engaged(
  deps: EmailLinkDeps,
  claim: { deliveryId: string; url?: string },
  kind: 'open' | 'click',
  userAgent: string | undefined,
): Promise<void> {
  const delivery = await recordEngagement(deps.pool, {
    deliveryId: claim.deliveryId,
    kind,
    ...(claim.url ? { url: claim.url } : {}),
    ...(userAgent ? { userAgent } : {}),
  });
  if (!delivery?.first) return;
  await deps.journeys.signalRunning(delivery.workspaceId, delivery.leadId, {
    kind: 'email_engaged',
    action: kind,
    deliveryId: claim.deliveryId,
    ...(delivery.enrolmentId ? { enrolmentId: delivery.enrolmentId } : {}),
    ...(delivery.step !== null ? { step: delivery.step } : {}),
    ...(claim.url ? { url: claim.url } : {}),
    // One event per message and kind: a repeated first (a race) is a duplicate to the journey.
    eventId: `${kind}:${claim.deliveryId}`,
    occurredAt: new Date().toISOString(),
    source: 'system',
  });
}

/** Records an open when the token is ours; the pixel is answered whatever happens. */
export async function trackOpen(deps: EmailLinkDeps, token: string, userAgent?: string): Promise<void> {
  const claim = deps.keyRing ? readTrackingToken(deps.keyRing, token.replace(/\.gif$/, '')) : undefined;
  if (!claim || claim.url) return;
  await engaged(deps, claim, 'open', userAgent);
}

/** Whether recording failed: the person clicking must still get where the link goes. */
export type ClickResult = { url: string; recorded: boolean } | undefined;

/** Where a click goes, recorded on the way; undefined for a token that is not ours (no redirect at all). */
export async function trackClick(
  deps: EmailLinkDeps,
  token: string,
  userAgent?: string,
): Promise<ClickResult> {
  const claim = deps.keyRing ? readTrackingToken(deps.keyRing, token) : undefined;
  if (!claim?.url) return undefined;
  try {
    await engaged(deps, claim, 'click', userAgent);
    return { url: claim.url, recorded: true };
  } catch {
    // Postgres or Temporal is down: the click goes uncounted, never unanswered.
    return { url: claim.url, recorded: false };
  }
}

/** The lead a one-click unsubscribe link names; 404 for a link that is not ours. */
export function unsubscribeLink(deps: EmailLinkDeps, token: string): { workspaceId: string; leadId: string } {
  const lead = deps.keyRing ? readUnsubscribeToken(deps.keyRing, token) : undefined;
  if (!lead) throw new AppError('not_found', 'this unsubscribe link is not valid');
  return lead;
}

/** Opts the lead out of prospect email and tells its journey, whose sequences end at once. */
export async function unsubscribe(deps: EmailLinkDeps, token: string): Promise<void> {
  const lead = unsubscribeLink(deps, token);
  await optOutOfEmail(deps.pool, lead);
  await deps.journeys.signalRunning(lead.workspaceId, lead.leadId, {
    kind: 'email_opt_out',
    eventId: `unsubscribe:${randomUUID()}`,
    occurredAt: new Date().toISOString(),
    source: 'api',
  });
}

/** The workspace's email settings: whether sequence email is tracked. */
export async function emailSettings(deps: Pick<EmailLinkDeps, 'pool'>, workspaceId: string) {
  const tracking = await emailTracking(deps.pool, workspaceId);
  if (tracking === undefined) throw new AppError('not_found', `workspace ${workspaceId} not found`);
  return { workspace_id: workspaceId, email_tracking: tracking };
}

/** Turns open and click tracking of sequence email on or off (links already sent keep redirecting, uncounted). */
export async function changeEmailSettings(
  deps: Pick<EmailLinkDeps, 'pool'>,
  workspaceId: string,
  patch: { email_tracking?: boolean },
) {
  if (patch.email_tracking !== undefined)
    await setEmailTracking(deps.pool, workspaceId, patch.email_tracking);
  return emailSettings(deps, workspaceId);
}
