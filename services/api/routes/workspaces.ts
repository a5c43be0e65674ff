// /api/v1/workspaces (registering and settings by admin token; the caller's own by API key) and /api/v1/properties.
import type pg from 'pg';
import { z } from 'zod';
import { workspaceActivity } from '../../../data/analytics';
import {
  createProperty,
  createWorkspace,
  getProperty,
  getWorkspace,
  listProperties,
  PERMISSIONS,
  updateWorkspace,
  type PropertyRecord,
  type WorkspaceRecord,
} from '../../../data/workspaces';
import { resolveRange } from '../../../shared/dateRange';
import { AppError } from '../../../shared/errors';
import { VERTICALS } from '../../../shared/lifecycle';
import { endpoint } from '../../common/endpoints';
import { principal, type Principal } from '../auth';
import { found, isoDate, json, slug, time } from '../schemas';

const timezone = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'not an IANA time zone, e.g. America/Chicago');

const CreateWorkspaceBody = z
  .object({
    workspace_id: slug.optional(),
    workspace_name: z.string().min(1).max(200),
    // The first key of a workspace is its owner's: everything unless asked for less.
    permissions: z.array(z.enum(PERMISSIONS)).min(1).default(['read', 'update', 'convert', 'admin']),
    timezone: timezone.default('America/New_York'),
    // Requests per hour for this workspace's API keys (SPEC default 1000).
    rate_limit_per_hour: z.number().int().min(1).max(10_000_000).optional(),
  })
  .strict();

/** Operator settings (admin token). */
const UpdateWorkspaceBody = z
  .object({
    workspace_name: z.string().min(1).max(200).optional(),
    timezone: timezone.optional(),
    rate_limit_per_hour: z.number().int().min(1).max(10_000_000).optional(),
    // The staff app's own budget (requests sent with X-Leadrelay-Client: dashboard).
    dashboard_rate_limit_per_hour: z.number().int().min(1).max(10_000_000).optional(),
  })
  .strict();

const CreatePropertyBody = z
  .object({
    property_id: slug.optional(),
    name: z.string().min(1).max(200),
    timezone,
    vertical: z.enum(VERTICALS),
    us_state: z
      .string()
      .regex(/^[A-Z]{2}$/, 'a two-letter US state code')
      .optional(),
  })
  .strict();

const Workspace = z
  .object({
    workspace_id: z.string(),
    workspace_name: z.string(),
    timezone: z.string(),
    rate_limit_per_hour: z.number().int(),
    dashboard_rate_limit_per_hour: z.number().int(),
    created_at: time,
  })
  .meta({ id: 'Workspace' });

const WorkspaceActivity = z.object({
  workspace_id: z.string(),
  total_contacts_received: z.number().int(),
  total_contacts_sent: z.number().int(),
  total_conversions: z.number().int(),
  total_conversion_value: z.number(),
  converted_contacts: z.number().int(),
  conversion_rate: z.number().meta({ description: 'percent of contacts received that converted' }),
  recent_activity: z.array(
    z.object({
      action: z.enum(['received', 'sent', 'converted', 'updated']),
      contact_id: z.string().nullable(),
      timestamp: time,
      metadata: json,
    }),
  ),
  from_date: time,
  to_date: time,
});

const Property = z
  .object({
    property_id: z.string(),
    workspace_id: z.string(),
    name: z.string(),
    timezone: z.string(),
    vertical: z.enum(VERTICALS),
    us_state: z.string().nullable(),
    created_at: time,
    updated_at: time,
  })
  .meta({ id: 'Property' });

const workspaceJson = (w: WorkspaceRecord) => ({ ...w, created_at: w.created_at.toISOString() });
const propertyJson = (p: PropertyRecord) => ({
  ...p,
  created_at: p.created_at.toISOString(),
  updated_at: p.updated_at.toISOString(),
});

/** The caller's own workspace: any other id in the path is not found. */
function own(caller: Principal, id: string | undefined): string {
  if (id !== caller.workspaceId) throw new AppError('not_found', `workspace ${id} not found`);
  return id;
}

export function workspaceEndpoints(pool: pg.Pool) {
  return [
    endpoint({
      method: 'post',
      path: '/api/v1/workspaces',
      tag: 'workspaces',
      summary: 'Register a workspace',
      description: 'Answers the workspace’s first API key, once; keys are stored hashed.',
      auth: 'admin_token',
      body: CreateWorkspaceBody,
      responses: {
        201: {
          description: 'registered',
          schema: z.object({ workspace_id: z.string(), api_key: z.string() }),
        },
      },
      async handler({ body }) {
        const { workspaceId, apiKey } = await createWorkspace(pool, {
          workspaceId: body.workspace_id,
          name: body.workspace_name,
          permissions: [...new Set(body.permissions)],
          timezone: body.timezone,
          rateLimitPerHour: body.rate_limit_per_hour,
        });
        return { workspace_id: workspaceId, api_key: apiKey };
      },
    }),
    endpoint({
      method: 'patch',
      path: '/api/v1/workspaces/:id',
      tag: 'workspaces',
      summary: 'Change a workspace’s settings (name, time zone, rate limit)',
      auth: 'admin_token',
      body: UpdateWorkspaceBody,
      responses: { 200: { description: 'updated', schema: Workspace } },
      async handler({ params, body }) {
        const workspace = await updateWorkspace(pool, params.id, {
          name: body.workspace_name,
          timezone: body.timezone,
          rateLimitPerHour: body.rate_limit_per_hour,
          dashboardRateLimitPerHour: body.dashboard_rate_limit_per_hour,
        });
        return workspaceJson(found(workspace, `workspace ${params.id}`));
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/workspaces/:id',
      tag: 'workspaces',
      summary: 'The caller’s workspace',
      permission: 'read',
      responses: { 200: { description: 'the workspace', schema: Workspace } },
      async handler({ params, req }) {
        const workspace = await getWorkspace(pool, own(principal(req), params.id));
        return workspaceJson(found(workspace, `workspace ${params.id}`));
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/workspaces/:id/activity',
      tag: 'workspaces',
      summary: 'Workspace activity (seed 004)',
      description:
        'Contacts received (leads created) and sent (marked with sent_from_workspace), conversions, the conversion rate and the latest actions. Range defaults to all time.',
      permission: 'read',
      query: z.object({
        from_date: isoDate.optional(),
        to_date: isoDate.optional(),
        limit: z.coerce.number().int().min(1).max(200).default(20),
      }),
      responses: { 200: { description: 'activity', schema: WorkspaceActivity } },
      async handler({ params, query, req }) {
        const caller = principal(req);
        const range = resolveRange({ from: query.from_date, to: query.to_date, zone: caller.timezone });
        const activity = await workspaceActivity(pool, own(caller, params.id), range, query.limit);
        return { ...activity, from_date: range.from, to_date: range.to };
      },
    }),
    endpoint({
      method: 'post',
      path: '/api/v1/properties',
      tag: 'properties',
      summary: 'Create a property (time zone, vertical)',
      permission: 'admin',
      body: CreatePropertyBody,
      responses: { 201: { description: 'created', schema: Property } },
      async handler({ body, req }) {
        const property = await createProperty(pool, {
          workspaceId: principal(req).workspaceId,
          propertyId: body.property_id,
          name: body.name,
          timezone: body.timezone,
          vertical: body.vertical,
          usState: body.us_state,
        });
        return propertyJson(property);
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/properties',
      tag: 'properties',
      summary: 'List properties',
      permission: 'read',
      responses: { 200: { description: 'properties', schema: z.object({ properties: z.array(Property) }) } },
      async handler({ req }) {
        const properties = await listProperties(pool, principal(req).workspaceId);
        return { properties: properties.map(propertyJson) };
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/properties/:id',
      tag: 'properties',
      summary: 'Get a property',
      permission: 'read',
      responses: { 200: { description: 'the property', schema: Property } },
      async handler({ params, req }) {
        const property = await getProperty(pool, principal(req).workspaceId, params.id);
        return propertyJson(found(property, `property ${params.id}`));
      },
    }),
  ];
}
