// Notification templates as data (seed 001's status templates plus follow-ups). Placeholders in braces
// are filled from the lead and the event; a workspace may point a preference at another template id.
export interface Template {
  subject: string;
  body: string;
}

export const TEMPLATES: Record<string, Template> = {
  // Seed 001 status-change templates, keyed `<old>_to_<new>`.
  new_to_contacted: {
    subject: 'New Lead Contacted - {lead_name}',
    body: 'A new lead has been contacted. Lead score: {lead_score}',
  },
  contacted_to_qualified: {
    subject: 'Lead Qualified - {lead_name}',
    body: 'Lead has been qualified and is ready for tour scheduling.',
  },
  qualified_to_tour_scheduled: {
    subject: 'Tour Scheduled - {lead_name}',
    body: 'Tour has been scheduled for {tour_datetime}. Please prepare.',
  },
  tour_scheduled_to_application: {
    subject: 'Application Started - {lead_name}',
    body: 'Lead has started the application process. Follow up required.',
  },
  application_to_leased: {
    subject: 'Lead Leased - {lead_name}',
    body: 'Congratulations! Lead has successfully leased.',
  },
  application_to_placed: {
    subject: 'Move-in - {lead_name}',
    body: 'Congratulations! {lead_name} is moving in.',
  },
  status_changed: {
    subject: 'Lead {new_status} - {lead_name}',
    body: '{lead_name} moved from {old_status} to {new_status}. {status_reason}',
  },
  // Follow-ups.
  speed_to_lead_escalation: {
    subject: 'No contact yet - {lead_name}',
    body: 'Nobody has contacted {lead_name} since the inquiry at {created_at}. Please reach out now.',
  },
  tour_reminder_24h: {
    subject: 'Your tour tomorrow at {property_name}',
    body: 'Hi {first_name}, a reminder of your tour at {property_name} on {tour_datetime}. Reply to reschedule.',
  },
  tour_reminder_2h: {
    subject: 'Your tour in 2 hours at {property_name}',
    body: 'Hi {first_name}, see you at {property_name} at {tour_datetime}.',
  },
  post_tour_outcome_request: {
    subject: 'How did the tour go? - {lead_name}',
    body: 'The tour with {lead_name} was at {tour_datetime}. Please record the outcome.',
  },
  no_show_follow_up: {
    subject: 'We missed you at {property_name}',
    body: 'Hi {first_name}, we missed you at your tour. Would you like to pick another time?',
  },
  follow_up_due: {
    subject: 'Follow-up due - {lead_name}',
    body: 'A follow-up scheduled by a workflow rule is due for {lead_name} ({status}).',
  },
  stale_lead_nudge: {
    subject: 'No activity for a week - {lead_name}',
    body: '{lead_name} ({status}) has had no activity for a while. A follow-up may win them back.',
  },
};

/** Fills `{name}` placeholders; unknown or empty ones become empty text, never the raw braces. */
export function render(text: string, values: Record<string, string | number | null | undefined>): string {
  return text
    .replace(/\{([a-z_]+)\}/g, (_match, name: string) => {
      const value = values[name];
      return value === undefined || value === null ? '' : String(value);
    })
    .replace(/\s+\./g, '.')
    .trim();
}

/** The template for a status change: the seed's specific one when it exists, else the generic one. */
export function statusTemplate(oldStatus: string | null, newStatus: string): string {
  const specific = `${oldStatus}_to_${newStatus}`;
  return TEMPLATES[specific] ? specific : 'status_changed';
}
