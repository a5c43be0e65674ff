// /api/v1/sequences and /api/v1/message-templates (seed 002 email campaigns): a workspace's nurture sequences and
// the templates their steps send, per-step rates, and a lead's enrolments, which staff can stop.
import { z } from 'zod';
import {
  MessageTemplateBody,
  SequenceBody,
  SequenceExitSchema,
  SequenceTriggerSchema,
} from '../../../shared/sequences';
import {
  changeMessageTemplate,
  changeSequence,
  defineMessageTemplate,
  defineSequence,
  leadEnrolments,
  messageTemplate,
  messageTemplates,
  removeMessageTemplate,
  removeSequence,
  sequenceAnalytics,
  sequenceJson,
  sequenceOf,
  sequencesOf,
  stopLeadEnrolment,
  templateJson,
  type SequenceDeps,
} from '../../../usecases/sequences';
import { endpoint } from '../../common/endpoints';
import { principal } from '../auth';
import { isoDate, time, uuid } from '../schemas';

const tag = 'sequences';
const ById = z.object({ id: uuid });
const templateId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lower-case letters, digits, _ and - (at most 64)');

const Sequence = z
  .object({
    id: z.uuid(),
    name: z.string(),
    property_id: z.string().nullable(),
    trigger: SequenceTriggerSchema,
    steps: z.array(
      z.object({
        wait: z.string(),
        wait_minutes: z.number().int(),
        channel: z.enum(['email', 'sms']),
        template_id: z.string(),
      }),
    ),
    exit_on: SequenceExitSchema,
    is_active: z.boolean(),
    created_at: time,
    updated_at: time,
  })
  .meta({ id: 'Sequence' });

const MessageTemplate = z
  .object({
    id: z.string(),
    name: z.string(),
    channel: z.enum(['email', 'sms']).nullable(),
    subject: z.string(),
    body: z.string(),
    built_in: z.boolean(),
    created_at: time.optional(),
    updated_at: time.optional(),
  })
  .meta({ id: 'MessageTemplate' });

const rateOrNull = z.number().nullable();
const SequenceAnalytics = z
  .object({
    sequence_id: z.uuid(),
    from: z.string().nullable(),
    to: z.string().nullable(),
    enrolments: z.object({
      active: z.number().int(),
      completed: z.number().int(),
      exited: z.number().int(),
      stopped: z.number().int(),
    }),
    steps: z.array(
      z
        .object({
          step: z.number().int(),
          channel: z.string(),
          template_id: z.string(),
          sent: z.number().int(),
          opened: z.number().int(),
          clicked: z.number().int(),
          replied: z.number().int(),
          open_rate: rateOrNull,
          click_rate: rateOrNull,
          reply_rate: rateOrNull,
        })
        .loose(),
    ),
  })
  .meta({ id: 'SequenceAnalytics' });

const Enrolment = z
  .object({
    id: z.uuid(),
    sequence_id: z.uuid(),
    sequence_name: z.string(),
    state: z.enum(['active', 'completed', 'exited', 'stopped']),
    step: z.number().int(),
    steps_total: z.number().int(),
    next_step_at: time.nullable(),
    exit_reason: z.string().nullable(),
    enrolled_at: time,
    finished_at: time.nullable(),
    messages: z.array(
      z
        .object({
          delivery_id: z.string(),
          step: z.number().int().nullable(),
          channel: z.string(),
          status: z.string(),
          sent_at: time.nullable(),
          opened_at: time.nullable(),
          clicked_at: time.nullable(),
        })
        .loose(),
    ),
  })
  .loose()
  .meta({ id: 'SequenceEnrolment' });

/** PATCH: any field of a sequence; at least one. */
const SequencePatch = SequenceBody.partial().refine((body) => Object.keys(body).length > 0, {
  message: 'nothing to update',
  path: ['body'],
});

const TemplatePatch = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    channel: z.enum(['email', 'sms']).nullable().optional(),
    subject: z.string().max(300).optional(),
    body: z.string().trim().min(1).max(10_000).optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: 'nothing to update', path: ['body'] });

export function sequenceEndpoints(deps: SequenceDeps) {
  const workspaceOf = (req: Parameters<typeof principal>[0]) => principal(req).workspaceId;
  return [
    endpoint({
      method: 'post',
      path: '/api/v1/sequences',
      tag,
      summary: 'Define a nurture sequence',
      description:
        'A trigger (an inquiry from given sources, a no-show, a status such as lost with given reasons), steps (a wait, then an email or SMS template) and exit rules (statuses reached, a reply, a call; an unsubscribe or STOP always ends it). Leads enrol from the moment the trigger happens.',
      permission: 'admin',
      body: SequenceBody,
      responses: { 201: { description: 'defined', schema: Sequence } },
      async handler({ body, req }) {
        return sequenceJson(await defineSequence(deps, workspaceOf(req), body));
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/sequences',
      tag,
      summary: 'The workspace’s sequences',
      permission: 'read',
      responses: { 200: { description: 'sequences', schema: z.object({ sequences: z.array(Sequence) }) } },
      async handler({ req }) {
        return { sequences: (await sequencesOf(deps, workspaceOf(req))).map(sequenceJson) };
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/sequences/:id',
      tag,
      summary: 'One sequence',
      permission: 'read',
      params: ById,
      responses: { 200: { description: 'the sequence', schema: Sequence } },
      async handler({ params, req }) {
        return sequenceJson(await sequenceOf(deps, workspaceOf(req), params.id));
      },
    }),
    endpoint({
      method: 'patch',
      path: '/api/v1/sequences/:id',
      tag,
      summary: 'Change a sequence (running enrolments take the new steps as each next step comes due)',
      permission: 'admin',
      params: ById,
      body: SequencePatch,
      responses: { 200: { description: 'changed', schema: Sequence } },
      async handler({ params, body, req }) {
        return sequenceJson(await changeSequence(deps, workspaceOf(req), params.id, body));
      },
    }),
    endpoint({
      method: 'delete',
      path: '/api/v1/sequences/:id',
      tag,
      summary: 'Delete a sequence (its enrolments end at their next step)',
      permission: 'admin',
      params: ById,
      responses: { 204: { description: 'deleted' } },
      async handler({ params, req }) {
        await removeSequence(deps, workspaceOf(req), params.id);
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/sequences/:id/analytics',
      tag,
      summary: 'Per-step sends with open, click and reply rates',
      permission: 'read',
      params: ById,
      query: z.object({
        from_date: isoDate.optional().meta({ description: 'enrolled from' }),
        to_date: isoDate.optional().meta({ description: 'enrolled until' }),
      }),
      responses: { 200: { description: 'per-step rates', schema: SequenceAnalytics } },
      async handler({ params, query, req }) {
        return sequenceAnalytics(deps, workspaceOf(req), params.id, {
          from: query.from_date,
          to: query.to_date,
        });
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/leads/:id/sequences',
      tag,
      summary: 'A lead’s enrolments, with what each step sent and whether it was opened or clicked',
      permission: 'read',
      params: ById,
      responses: {
        200: {
          description: 'enrolments, newest first',
          schema: z.object({ lead_id: z.uuid(), enrolments: z.array(Enrolment) }),
        },
      },
      async handler({ params, req }) {
        return leadEnrolments(deps, workspaceOf(req), params.id);
      },
    }),
    endpoint({
      method: 'post',
      path: '/api/v1/leads/:id/sequences/:enrolmentId/stop',
      tag,
      summary: 'Stop one of a lead’s enrolments (no step sends after this); 409 when it is not active',
      permission: 'update',
      params: z.object({ id: uuid, enrolmentId: uuid }),
      body: z.object({ actor: z.string().min(1).max(200).optional() }).strict(),
      bodyOptional: true,
      responses: {
        200: {
          description: 'stopped',
          schema: z.object({ id: z.uuid(), state: z.literal('stopped'), exit_reason: z.string() }),
        },
      },
      async handler({ params, body, req }) {
        return stopLeadEnrolment(
          deps,
          workspaceOf(req),
          params.id,
          params.enrolmentId,
          body.actor ?? principal(req).label,
        );
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/message-templates',
      tag,
      summary: 'Message templates: the workspace’s own, then the built-in ones it has not replaced',
      permission: 'read',
      responses: {
        200: { description: 'templates', schema: z.object({ templates: z.array(MessageTemplate) }) },
      },
      async handler({ req }) {
        return messageTemplates(deps, workspaceOf(req));
      },
    }),
    endpoint({
      method: 'post',
      path: '/api/v1/message-templates',
      tag,
      summary: 'Add a message template ({first_name}, {property_name} … are filled in when sent)',
      permission: 'admin',
      body: MessageTemplateBody,
      responses: { 201: { description: 'added', schema: MessageTemplate } },
      async handler({ body, req }) {
        return templateJson(await defineMessageTemplate(deps, workspaceOf(req), body));
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/message-templates/:id',
      tag,
      summary: 'One message template',
      permission: 'read',
      params: z.object({ id: templateId }),
      responses: { 200: { description: 'the template', schema: MessageTemplate } },
      async handler({ params, req }) {
        return messageTemplate(deps, workspaceOf(req), params.id);
      },
    }),
    endpoint({
      method: 'patch',
      path: '/api/v1/message-templates/:id',
      tag,
      summary: 'Change a message template (steps not yet sent use the new text)',
      permission: 'admin',
      params: z.object({ id: templateId }),
      body: TemplatePatch,
      responses: { 200: { description: 'changed', schema: MessageTemplate } },
      async handler({ params, body, req }) {
        return templateJson(await changeMessageTemplate(deps, workspaceOf(req), params.id, body));
      },
    }),
    endpoint({
      method: 'delete',
      path: '/api/v1/message-templates/:id',
      tag,
      summary: 'Delete a message template; 409 while a sequence uses it',
      permission: 'admin',
      params: z.object({ id: templateId }),
      responses: { 204: { description: 'deleted' } },
      async handler({ params, req }) {
        await removeMessageTemplate(deps, workspaceOf(req), params.id);
      },
    }),
  ];
}
