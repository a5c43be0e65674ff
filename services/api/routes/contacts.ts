// /api/v1/contacts/:id/conversion (seed 004): a lead's conversion status, lifetime value, count and metadata.
import { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import { getContactConversion, updateContactConversion } from '../../../data/conversions';
import { CONVERSION_STATUSES } from '../../../shared/conversions';
import { AppError } from '../../../shared/errors';
import { parse, route } from '../../common/http';
import { principal, requirePermission } from '../auth';
import { uuid } from '../schemas';

const label = z.string().min(1).max(200);

/** Seed 004 `PATCH /contacts/:id/conversion`; custom_metadata is merged key by key (null removes a key). */
export const ContactConversionBody = z
  .object({
    sent_from_workspace: label.optional(),
    converted_from_workspace: label.optional(),
    conversion_status: z.enum(CONVERSION_STATUSES).optional(),
    converted_by: label.optional(),
    custom_metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .refine((body) => Object.values(body).some((value) => value !== undefined), {
    message: 'nothing to update',
    path: ['body'],
  })
  .meta({ id: 'ContactConversionRequest' });

function contactId(raw: unknown): string {
  const id = String(raw);
  if (!uuid.safeParse(id).success) throw new AppError('not_found', `contact ${id} not found`);
  return id;
}

export function contactsRouter(pool: pg.Pool): Router {
  const router = Router();

  router.get(
    '/:id/conversion',
    requirePermission('read'),
    route(async (req, res) => {
      const id = contactId(req.params.id);
      const contact = await getContactConversion(pool, principal(req).workspaceId, id);
      if (!contact) throw new AppError('not_found', `contact ${id} not found`);
      res.json(contact);
    }),
  );

  router.patch(
    '/:id/conversion',
    requirePermission('convert'),
    route(async (req, res) => {
      const body = parse(ContactConversionBody, req.body);
      const id = contactId(req.params.id);
      const contact = await updateContactConversion(pool, principal(req).workspaceId, id, {
        conversionStatus: body.conversion_status,
        convertedBy: body.converted_by,
        sentFromWorkspace: body.sent_from_workspace,
        convertedFromWorkspace: body.converted_from_workspace,
        customMetadata: body.custom_metadata,
      });
      if (!contact) throw new AppError('not_found', `contact ${id} not found`);
      res.json(contact);
    }),
  );

  return router;
}
