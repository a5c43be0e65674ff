// Workflow rules a workspace sets for its properties (or all of them): a rule names a property it has.
import type pg from 'pg';
import { createRule, listPropertyRules } from '../data/workflowRules';
import { getProperty } from '../data/workspaces';
import { AppError } from '../shared/errors';
import type { RuleAction } from '../shared/journey/rules';
import { NOTIFICATION_METHODS } from '../shared/notifications/recipientForms';
import { checkRecipients } from './notifications';
import { requireProperty } from './properties';

/** A send_notification's channel and recipients are checked as a notification preference's are. */
function checkActions(actions: Record<string, unknown>[]): void {
  actions.forEach((action, i) => {
    if (action.type !== 'send_notification') return;
    const config = (action.config ?? {}) as RuleAction['config'];
    const at = `actions.${i}.config`;
    const channel = config.channel ?? 'slack';
    if (!NOTIFICATION_METHODS.includes(channel as never)) {
      throw new AppError('validation_failed', `invalid body: ${at}.channel`, {
        fields: [{ field: `${at}.channel`, message: `must be one of ${NOTIFICATION_METHODS.join(', ')}` }],
      });
    }
    const recipients = config.recipients;
    if (recipients === undefined) return;
    if (!Array.isArray(recipients) || !recipients.every((r) => typeof r === 'string')) {
      throw new AppError('validation_failed', `invalid body: ${at}.recipients`, {
        fields: [{ field: `${at}.recipients`, message: 'must be a list of recipients' }],
      });
    }
    checkRecipients(channel as string, recipients as string[], `${at}.recipients`);
  });
}

export async function addRule(pool: pg.Pool, workspaceId: string, input: Parameters<typeof createRule>[2]) {
  checkActions(input.actions);
  await requireProperty(pool, workspaceId, input.propertyId);
  return createRule(pool, workspaceId, input);
}

/** A property's rules, its own and the workspace-wide ones; an unknown property is not found. */
export async function propertyRules(pool: pg.Pool, workspaceId: string, propertyId: string) {
  if (!(await getProperty(pool, workspaceId, propertyId))) {
    throw new AppError('not_found', `property ${propertyId} not found`);
  }
  return listPropertyRules(pool, workspaceId, propertyId);
}
