// Nurture sequences as the product offers them: define, change and remove a workspace's sequences and message
// templates (every template a step names must exist and suit its channel), read a lead's enrolments with what each
// step sent, stop one (the row at once, then the journey), and per-step open, click and reply rates.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { getLead } from '../data/leads';
import {
  createMessageTemplate,
  createSequence,
  deleteMessageTemplate,
  deleteSequence,
  getLeadEnrolment,
  getSequence,
  listLeadEnrolments,
  listMessageTemplates,
  listSequences,
  sequenceStats,
  sequencesUsingTemplate,
  stopEnrolment,
  updateMessageTemplate,
  updateSequence,
  type MessageTemplateRecord,
  type SequenceFields,
  type SequenceRecord,
} from '../data/sequences';
import { getProperty } from '../data/workspaces';
import { AppError } from '../shared/errors';
import { TEMPLATES } from '../shared/notifications/templates';
import {
  MessageTemplateBody,
  SequenceBody,
  exitRules,
  storedSteps,
  type StoredStep,
} from '../shared/sequences';
import type { z } from 'zod';
import type { JourneyClient } from './journeys';

export interface SequenceDeps {
  pool: pg.Pool;
  journeys: JourneyClient;
}

export type SequencePatch = Partial<z.output<typeof SequenceBody>>;

export function sequenceJson(sequence: SequenceRecord) {
  return {
    id: sequence.id,
    name: sequence.name,
    property_id: sequence.property_id,
    trigger: sequence.trigger,
    steps: sequence.steps,
    exit_on: { ...sequence.exit_on, unsubscribe: true },
    is_active: sequence.is_active,
    created_at: sequence.created_at.toISOString(),
    updated_at: sequence.updated_at.toISOString(),
  };
}

const fieldError = (message: string, fields: { field: string; message: string }[]) =>
  new AppError('validation_failed', message, { fields });

/** Every step's template must exist (the workspace's or a built-in one) and suit the step's channel. */
async function checkSteps(pool: pg.Pool, workspaceId: string, steps: StoredStep[]): Promise<void> {
  const own = new Map(
    (await listMessageTemplates(pool, workspaceId, [...new Set(steps.map((s) => s.template_id))])).map(
      (t) => [t.id, t],
    ),
  );
  const problems = steps.flatMap((step, i) => {
    const template = own.get(step.template_id);
    if (!template && !Object.prototype.hasOwnProperty.call(TEMPLATES, step.template_id)) {
      return [
        { field: `steps.${i}.template_id`, message: `no template ${step.template_id} in this workspace` },
      ];
    }
    if (template?.channel && template.channel !== step.channel) {
      return [
        { field: `steps.${i}.channel`, message: `template ${step.template_id} is for ${template.channel}` },
      ];
    }
    return [];
  });
  if (problems.length > 0) {
    throw fieldError(`invalid steps: ${problems.map((p) => p.field).join(', ')}`, problems);
  }
}

async function checkProperty(pool: pg.Pool, workspaceId: string, propertyId: string | null | undefined) {
  if (propertyId && !(await getProperty(pool, workspaceId, propertyId))) {
    throw fieldError(`property ${propertyId} does not exist in this workspace`, [
      { field: 'property_id', message: 'unknown property' },
    ]);
  }
}

export async function defineSequence(
  deps: SequenceDeps,
  workspaceId: string,
  input: z.output<typeof SequenceBody>,
): Promise<SequenceRecord> {
  const steps = storedSteps(input.steps);
  await checkProperty(deps.pool, workspaceId, input.property_id);
  await checkSteps(deps.pool, workspaceId, steps);
  return createSequence(deps.pool, workspaceId, {
    name: input.name,
    propertyId: input.property_id ?? null,
    trigger: input.trigger,
    steps,
    exitOn: exitRules(input.exit_on),
    isActive: input.is_active ?? true,
  });
}

export async function sequenceOf(
  deps: SequenceDeps,
  workspaceId: string,
  id: string,
): Promise<SequenceRecord> {
  const sequence = await getSequence(deps.pool, workspaceId, id);
  if (!sequence) throw new AppError('not_found', `sequence ${id} not found`);
  return sequence;
}

export function sequencesOf(deps: SequenceDeps, workspaceId: string): Promise<SequenceRecord[]> {
  return listSequences(deps.pool, workspaceId);
}

/** Changes what is given; running enrolments take the new steps and rules as each next step comes due. */
export async function changeSequence(
  deps: SequenceDeps,
  workspaceId: string,
  id: string,
  patch: SequencePatch,
): Promise<SequenceRecord> {
  const current = await sequenceOf(deps, workspaceId, id);
  const fields: Partial<SequenceFields> = {};
  if (patch.name !== undefined) fields.name = patch.name;
  if (patch.property_id !== undefined) {
    await checkProperty(deps.pool, workspaceId, patch.property_id);
    fields.propertyId = patch.property_id;
  }
  if (patch.trigger !== undefined) fields.trigger = patch.trigger;
  if (patch.steps !== undefined) {
    fields.steps = storedSteps(patch.steps);
    await checkSteps(deps.pool, workspaceId, fields.steps);
  }
  if (patch.exit_on !== undefined) fields.exitOn = exitRules(patch.exit_on);
  if (patch.is_active !== undefined) fields.isActive = patch.is_active;
  return (await updateSequence(deps.pool, workspaceId, current.id, fields)) ?? current;
}

export async function removeSequence(deps: SequenceDeps, workspaceId: string, id: string): Promise<void> {
  if (!(await deleteSequence(deps.pool, workspaceId, id))) {
    throw new AppError('not_found', `sequence ${id} not found`);
  }
}

const rate = (part: number, whole: number) =>
  whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null;

/** Per step: sent, opened, clicked and replied, with rates (opens and clicks of email sent; replies of leads reached). */
export async function sequenceAnalytics(
  deps: SequenceDeps,
  workspaceId: string,
  id: string,
  range: { from?: string; to?: string },
) {
  const sequence = await sequenceOf(deps, workspaceId, id);
  const stats = await sequenceStats(deps.pool, workspaceId, sequence.id, range);
  const byStep = new Map(stats.steps.map((s) => [s.step, s]));
  return {
    sequence_id: sequence.id,
    from: range.from ?? null,
    to: range.to ?? null,
    enrolments: {
      active: stats.enrolments.active ?? 0,
      completed: stats.enrolments.completed ?? 0,
      exited: stats.enrolments.exited ?? 0,
      stopped: stats.enrolments.stopped ?? 0,
    },
    steps: sequence.steps.map((step, index) => {
      const s = byStep.get(index);
      const sent = s?.sent ?? 0;
      const emailSent = s?.email_sent ?? 0;
      return {
        step: index,
        channel: step.channel,
        template_id: step.template_id,
        wait: step.wait,
        sent,
        opened: s?.opened ?? 0,
        clicked: s?.clicked ?? 0,
        replied: s?.replied ?? 0,
        open_rate: step.channel === 'email' ? rate(s?.opened ?? 0, emailSent) : null,
        click_rate: step.channel === 'email' ? rate(s?.clicked ?? 0, emailSent) : null,
        reply_rate: rate(s?.replied ?? 0, s?.reached ?? 0),
      };
    }),
  };
}

async function requireLead(pool: pg.Pool, workspaceId: string, leadId: string) {
  const lead = await getLead(pool, workspaceId, leadId);
  if (!lead) throw new AppError('not_found', `lead ${leadId} not found`);
  return lead;
}

/** A lead's enrolments, newest first, with their step and state and what each step sent (opened, clicked). */
export async function leadEnrolments(deps: SequenceDeps, workspaceId: string, leadId: string) {
  await requireLead(deps.pool, workspaceId, leadId);
  const { enrolments, messages } = await listLeadEnrolments(deps.pool, workspaceId, leadId);
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return {
    lead_id: leadId,
    enrolments: enrolments.map((e) => ({
      id: e.id,
      sequence_id: e.sequence_id,
      sequence_name: e.sequence_name,
      trigger: e.trigger,
      state: e.state,
      step: e.step,
      steps_total: e.steps_total,
      next_step_at: iso(e.next_step_at),
      exit_reason: e.exit_reason,
      replied_at: iso(e.replied_at),
      reply_step: e.reply_step,
      journey: e.journey,
      enrolled_at: e.enrolled_at.toISOString(),
      finished_at: iso(e.finished_at),
      messages: messages
        .filter((m) => m.enrolment_id === e.id)
        .map((m) => ({
          delivery_id: m.delivery_id,
          step: m.step,
          channel: m.channel,
          template: m.template,
          subject: m.subject,
          status: m.status,
          not_before: iso(m.not_before),
          sent_at: iso(m.sent_at),
          opened_at: iso(m.opened_at),
          clicked_at: iso(m.clicked_at),
        })),
    })),
  };
}

/** Staff stop an enrolment: its row at once (no step sends after this), then its journey lets it go. */
export async function stopLeadEnrolment(
  deps: SequenceDeps,
  workspaceId: string,
  leadId: string,
  enrolmentId: string,
  actor: string | undefined,
) {
  const lead = await requireLead(deps.pool, workspaceId, leadId);
  const enrolment = await getLeadEnrolment(deps.pool, workspaceId, leadId, enrolmentId);
  if (!enrolment) throw new AppError('not_found', `enrolment ${enrolmentId} not found for lead ${leadId}`);
  const reason = actor ? `stopped by ${actor}` : 'stopped by staff';
  if (!(await stopEnrolment(deps.pool, workspaceId, leadId, enrolmentId, reason))) {
    throw new AppError('conflict', `enrolment ${enrolmentId} is ${enrolment.state}, not active`, {
      state: enrolment.state,
    });
  }
  await deps.journeys.signalRunning(workspaceId, lead.id, {
    kind: 'sequence_stop',
    enrolmentId,
    reason,
    eventId: `stop:${enrolmentId}:${randomUUID()}`,
    occurredAt: new Date().toISOString(),
    source: 'staff',
    ...(actor ? { actor } : {}),
  });
  return { id: enrolmentId, state: 'stopped' as const, exit_reason: reason };
}

// ---- message templates ----

export function templateJson(template: MessageTemplateRecord) {
  return {
    id: template.id,
    name: template.name,
    channel: template.channel,
    subject: template.subject,
    body: template.body,
    built_in: false,
    created_at: template.created_at.toISOString(),
    updated_at: template.updated_at.toISOString(),
  };
}

/** The workspace's templates, then the built-in ones it has not replaced. */
export async function messageTemplates(deps: SequenceDeps, workspaceId: string) {
  const own = await listMessageTemplates(deps.pool, workspaceId);
  const ids = new Set(own.map((t) => t.id));
  const builtIn = Object.entries(TEMPLATES)
    .filter(([id]) => !ids.has(id))
    .map(([id, t]) => ({
      id,
      name: id.replace(/_/g, ' '),
      channel: null,
      subject: t.subject,
      body: t.body,
      built_in: true,
    }));
  return { templates: [...own.map(templateJson), ...builtIn] };
}

/** One template: the workspace's own, else the built-in one of that id. */
export async function messageTemplate(deps: SequenceDeps, workspaceId: string, id: string) {
  const own = (await listMessageTemplates(deps.pool, workspaceId, [id]))[0];
  if (own) return templateJson(own);
  const builtIn = Object.prototype.hasOwnProperty.call(TEMPLATES, id) ? TEMPLATES[id] : undefined;
  if (!builtIn) throw new AppError('not_found', `template ${id} not found`);
  return {
    id,
    name: id.replace(/_/g, ' '),
    channel: null,
    subject: builtIn.subject,
    body: builtIn.body,
    built_in: true,
  };
}

const slug = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64) || 'template';

export async function defineMessageTemplate(
  deps: SequenceDeps,
  workspaceId: string,
  input: z.output<typeof MessageTemplateBody>,
): Promise<MessageTemplateRecord> {
  const id = input.id ?? slug(input.name);
  const created = await createMessageTemplate(deps.pool, workspaceId, {
    id,
    name: input.name,
    channel: input.channel ?? null,
    subject: input.subject ?? '',
    body: input.body,
  });
  if (!created) throw new AppError('conflict', `template ${id} already exists`, { field: 'id' });
  return created;
}

export async function changeMessageTemplate(
  deps: SequenceDeps,
  workspaceId: string,
  id: string,
  patch: { name?: string; channel?: 'email' | 'sms' | null; subject?: string; body?: string },
): Promise<MessageTemplateRecord> {
  const updated = await updateMessageTemplate(deps.pool, workspaceId, id, patch);
  if (!updated) throw new AppError('not_found', `template ${id} not found`);
  return updated;
}

/** A template a sequence uses stays (the sequence would have nothing to send). */
export async function removeMessageTemplate(
  deps: SequenceDeps,
  workspaceId: string,
  id: string,
): Promise<void> {
  const users = await sequencesUsingTemplate(deps.pool, workspaceId, id);
  if (users.length > 0) {
    throw new AppError('conflict', `template ${id} is used by ${users.map((s) => s.name).join(', ')}`, {
      sequences: users,
    });
  }
  if (!(await deleteMessageTemplate(deps.pool, workspaceId, id))) {
    throw new AppError('not_found', `template ${id} not found`);
  }
}
