// What differs between two outcomes of one lead (baseline and candidate, or the record and the baseline), and the
// totals over many leads. Lists are compared as multisets of items; statuses as the ordered trail they are.
import type {
  FeeItem,
  FollowUpItem,
  LeadOutcome,
  NotificationItem,
  PushItem,
  StatusItem,
  TaskItem,
} from './outcome';

export interface Change<T> {
  added: T[];
  removed: T[];
}

export interface MovedFollowUp {
  journey: number;
  name: string;
  baseline: { fire_at: string; fired: boolean };
  candidate: { fire_at: string; fired: boolean };
}

export interface FeeChange {
  journey: number;
  partner: string;
  baseline: number | null;
  candidate: number | null;
  currency: string;
}

/** Only what differs is present; an empty object means the two outcomes agree. */
export interface LeadDifferences {
  final_status?: { baseline: string; candidate: string };
  /** The full trails (`j1 applied new→contacted (staff)`), when they differ anywhere. */
  statuses?: { baseline: string[]; candidate: string[] };
  follow_ups?: Change<FollowUpItem> & { moved: MovedFollowUp[] };
  notifications?: Change<NotificationItem>;
  pushes?: Change<PushItem>;
  tasks?: Change<TaskItem>;
  fees?: Change<FeeItem> & { changed: FeeChange[] };
}

export function statusLine(item: StatusItem): string {
  const move = item.type === 'skipped' ? `→${item.to}` : `${item.from ?? '∅'}→${item.to}`;
  return `j${item.journey} ${item.type} ${move} (${item.source})`;
}

/** Multiset difference by an identity: what `b` has beyond `a` (added) and what `a` has beyond `b` (removed). */
function changeOf<T>(a: readonly T[], b: readonly T[], identity: (item: T) => string): Change<T> {
  const left = new Map<string, T[]>();
  for (const item of a) left.set(identity(item), [...(left.get(identity(item)) ?? []), item]);
  const added: T[] = [];
  for (const item of b) {
    const same = left.get(identity(item));
    if (same && same.length > 0) same.shift();
    else added.push(item);
  }
  return { added, removed: [...left.values()].flat() };
}

const notificationId = (n: NotificationItem) =>
  [n.journey, n.cause, n.audience, n.template, n.channel, n.recipient].join('|');
const pushId = (p: PushItem) => [p.journey, p.cause, p.partner, p.status].join('|');
const taskId = (t: TaskItem) => [t.journey, t.cause, t.kind].join('|');
const feeId = (f: FeeItem) => [f.journey, f.partner, f.won_status].join('|');

function followUpChange(
  a: readonly FollowUpItem[],
  b: readonly FollowUpItem[],
  toleranceMs: number,
): Change<FollowUpItem> & { moved: MovedFollowUp[] } {
  // The n-th firing of a follow-up in a journey lines up with the n-th on the other side.
  const { added, removed } = changeOf(a, b, (f) => `${f.journey}|${f.name}|${f.fire_at}|${f.fired}`);
  const moved: MovedFollowUp[] = [];
  const stillAdded: FollowUpItem[] = [];
  for (const item of added) {
    const index = removed.findIndex((r) => r.journey === item.journey && r.name === item.name);
    if (index < 0) {
      stillAdded.push(item);
      continue;
    }
    const [was] = removed.splice(index, 1);
    const apart = Math.abs(Date.parse(was!.fire_at) - Date.parse(item.fire_at));
    if (apart <= toleranceMs && was!.fired === item.fired) continue;
    moved.push({
      journey: item.journey,
      name: item.name,
      baseline: { fire_at: was!.fire_at, fired: was!.fired },
      candidate: { fire_at: item.fire_at, fired: item.fired },
    });
  }
  return { added: stillAdded, removed, moved };
}

const hasAny = (change: { added: unknown[]; removed: unknown[]; moved?: unknown[]; changed?: unknown[] }) =>
  change.added.length + change.removed.length + (change.moved?.length ?? 0) + (change.changed?.length ?? 0) >
  0;

/**
 * The differences from `baseline` to `candidate`. `toleranceMs`: follow-up times this close are the same (a
 * replay's clock is the record's to the millisecond only where the record kept the time of the decision).
 */
export function diffOutcomes(
  baseline: LeadOutcome,
  candidate: LeadOutcome,
  toleranceMs = 0,
): LeadDifferences {
  const differences: LeadDifferences = {};
  if (baseline.final_status !== candidate.final_status) {
    differences.final_status = { baseline: baseline.final_status, candidate: candidate.final_status };
  }
  const trail = {
    baseline: baseline.statuses.map(statusLine),
    candidate: candidate.statuses.map(statusLine),
  };
  if (trail.baseline.join('\n') !== trail.candidate.join('\n')) differences.statuses = trail;
  const followUps = followUpChange(baseline.follow_ups, candidate.follow_ups, toleranceMs);
  if (hasAny(followUps)) differences.follow_ups = followUps;
  const notifications = changeOf(baseline.notifications, candidate.notifications, notificationId);
  if (hasAny(notifications)) differences.notifications = notifications;
  const pushes = changeOf(baseline.pushes, candidate.pushes, pushId);
  if (hasAny(pushes)) differences.pushes = pushes;
  const tasks = changeOf(baseline.tasks, candidate.tasks, taskId);
  if (hasAny(tasks)) differences.tasks = tasks;
  const fees = changeOf(baseline.fees, candidate.fees, feeId);
  const changed: FeeChange[] = [];
  for (const after of candidate.fees) {
    const before = baseline.fees.find((f) => feeId(f) === feeId(after));
    if (before && before.amount !== after.amount) {
      changed.push({
        journey: after.journey,
        partner: after.partner,
        baseline: before.amount,
        candidate: after.amount,
        currency: after.currency,
      });
    }
  }
  if (hasAny({ ...fees, changed })) differences.fees = { ...fees, changed };
  return differences;
}

/**
 * A replay's outcome cut to what the record can show: follow-ups fired, and of those ahead only the earliest
 * (the projection keeps `next_follow_up_at`, nothing more).
 */
export function asRecordShows(outcome: LeadOutcome): LeadOutcome {
  const ahead = outcome.follow_ups
    .filter((f) => !f.fired)
    .sort((a, b) => (a.fire_at < b.fire_at ? -1 : 1))[0];
  return {
    ...outcome,
    follow_ups: [
      ...outcome.follow_ups.filter((f) => f.fired),
      ...(ahead ? [{ ...ahead, name: 'next' }] : []),
    ],
  };
}

/** Totals over many leads, counted as each lead's differences arrive. */
export interface WhatIfTotals {
  leads: number;
  leads_changed: number;
  baseline_matches_recorded: number;
  baseline_differs_from_recorded: number;
  inputs_incomplete: number;
  final_status: { changed: number; baseline: Record<string, number>; candidate: Record<string, number> };
  follow_ups: { added: number; removed: number; moved: number };
  notifications: {
    added: number;
    removed: number;
    by_recipient: { channel: string | null; recipient: string | null; added: number; removed: number }[];
  };
  pushes: { added: number; removed: number; by_partner: Record<string, { added: number; removed: number }> };
  tasks: { added: number; removed: number };
  fees: {
    added: number;
    removed: number;
    changed: number;
    /** Candidate minus baseline, per currency (unknown amounts count as 0). */
    amount_delta: Record<string, number>;
  };
}

export function emptyTotals(): WhatIfTotals {
  return {
    leads: 0,
    leads_changed: 0,
    baseline_matches_recorded: 0,
    baseline_differs_from_recorded: 0,
    inputs_incomplete: 0,
    final_status: { changed: 0, baseline: {}, candidate: {} },
    follow_ups: { added: 0, removed: 0, moved: 0 },
    notifications: { added: 0, removed: 0, by_recipient: [] },
    pushes: { added: 0, removed: 0, by_partner: {} },
    tasks: { added: 0, removed: 0 },
    fees: { added: 0, removed: 0, changed: 0, amount_delta: {} },
  };
}

/** One lead's contribution to the totals. */
export function totalsOf(lead: {
  baseline: LeadOutcome;
  candidate: LeadOutcome;
  differences: LeadDifferences;
  matchesRecorded: boolean | null;
  inputsComplete: boolean;
}): WhatIfTotals {
  const { differences: d } = lead;
  const totals = emptyTotals();
  totals.leads = 1;
  totals.leads_changed = Object.keys(d).length > 0 ? 1 : 0;
  totals.baseline_matches_recorded = lead.matchesRecorded === true ? 1 : 0;
  totals.baseline_differs_from_recorded = lead.matchesRecorded === false ? 1 : 0;
  totals.inputs_incomplete = lead.inputsComplete ? 0 : 1;
  totals.final_status = {
    changed: d.final_status ? 1 : 0,
    baseline: { [lead.baseline.final_status]: 1 },
    candidate: { [lead.candidate.final_status]: 1 },
  };
  const added = d.follow_ups?.added.length ?? 0;
  totals.follow_ups = {
    added,
    removed: d.follow_ups?.removed.length ?? 0,
    moved: d.follow_ups?.moved.length ?? 0,
  };
  const notifications = d.notifications ?? { added: [], removed: [] };
  totals.notifications.added = notifications.added.length;
  totals.notifications.removed = notifications.removed.length;
  tally(notifications, (item) => {
    const rows = totals.notifications.by_recipient;
    const row = rows.find((r) => r.channel === item.channel && r.recipient === item.recipient);
    if (row) return row;
    rows.push({ channel: item.channel, recipient: item.recipient, added: 0, removed: 0 });
    return rows[rows.length - 1]!;
  });
  const pushes = d.pushes ?? { added: [], removed: [] };
  totals.pushes.added = pushes.added.length;
  totals.pushes.removed = pushes.removed.length;
  tally(pushes, (item) => (totals.pushes.by_partner[item.partner] ??= { added: 0, removed: 0 }));
  totals.tasks = { added: d.tasks?.added.length ?? 0, removed: d.tasks?.removed.length ?? 0 };
  if (d.fees) {
    const delta: Record<string, number> = {};
    const bump = (currency: string, by: number) => (delta[currency] = round2((delta[currency] ?? 0) + by));
    for (const fee of d.fees.added) bump(fee.currency, fee.amount ?? 0);
    for (const fee of d.fees.removed) bump(fee.currency, -(fee.amount ?? 0));
    for (const fee of d.fees.changed) bump(fee.currency, (fee.candidate ?? 0) - (fee.baseline ?? 0));
    totals.fees = {
      added: d.fees.added.length,
      removed: d.fees.removed.length,
      changed: d.fees.changed.length,
      amount_delta: delta,
    };
  }
  return totals;
}

/** Counts each added and removed item on the row it belongs to. */
function tally<T>(change: Change<T>, rowOf: (item: T) => { added: number; removed: number }): void {
  for (const item of change.added) rowOf(item).added += 1;
  for (const item of change.removed) rowOf(item).removed += 1;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/** Totals of two pages as one (a CLI paging through every lead sums them). */
export function mergeTotals(a: WhatIfTotals, b: WhatIfTotals): WhatIfTotals {
  const sumCounts = (x: Record<string, number>, y: Record<string, number>) => {
    const sum = { ...x };
    for (const [key, value] of Object.entries(y)) sum[key] = round2((sum[key] ?? 0) + value);
    return sum;
  };
  const byRecipient = a.notifications.by_recipient.map((row) => ({ ...row }));
  for (const row of b.notifications.by_recipient) {
    const same = byRecipient.find((r) => r.channel === row.channel && r.recipient === row.recipient);
    if (same) {
      same.added += row.added;
      same.removed += row.removed;
    } else byRecipient.push({ ...row });
  }
  const byPartner = { ...a.pushes.by_partner };
  for (const [partner, row] of Object.entries(b.pushes.by_partner)) {
    const same = byPartner[partner];
    byPartner[partner] = same ? { added: same.added + row.added, removed: same.removed + row.removed } : row;
  }
  return {
    leads: a.leads + b.leads,
    leads_changed: a.leads_changed + b.leads_changed,
    baseline_matches_recorded: a.baseline_matches_recorded + b.baseline_matches_recorded,
    baseline_differs_from_recorded: a.baseline_differs_from_recorded + b.baseline_differs_from_recorded,
    inputs_incomplete: a.inputs_incomplete + b.inputs_incomplete,
    final_status: {
      changed: a.final_status.changed + b.final_status.changed,
      baseline: sumCounts(a.final_status.baseline, b.final_status.baseline),
      candidate: sumCounts(a.final_status.candidate, b.final_status.candidate),
    },
    follow_ups: {
      added: a.follow_ups.added + b.follow_ups.added,
      removed: a.follow_ups.removed + b.follow_ups.removed,
      moved: a.follow_ups.moved + b.follow_ups.moved,
    },
    notifications: {
      added: a.notifications.added + b.notifications.added,
      removed: a.notifications.removed + b.notifications.removed,
      by_recipient: byRecipient,
    },
    pushes: {
      added: a.pushes.added + b.pushes.added,
      removed: a.pushes.removed + b.pushes.removed,
      by_partner: byPartner,
    },
    tasks: { added: a.tasks.added + b.tasks.added, removed: a.tasks.removed + b.tasks.removed },
    fees: {
      added: a.fees.added + b.fees.added,
      removed: a.fees.removed + b.fees.removed,
      changed: a.fees.changed + b.fees.changed,
      amount_delta: sumCounts(a.fees.amount_delta, b.fees.amount_delta),
    },
  };
}
