// Workflow rules: the rules a property's leads follow, and a new rule tried on the last 30 days of real leads
// (POST /api/v1/admin/whatif: nothing is sent or written) before it is saved.
import { useState, type FormEvent } from 'react';
import { RULE_ACTION_TYPES } from '../../../shared/journey/rules';
import type { LeadDifferences } from '../../../shared/whatif/diff';
import { ApiError } from '../api';
import { count, dateTime, label, shortId, STATUSES } from '../format';
import { useResource } from '../hooks';
import { Link } from '../router';
import { useSession } from '../session';
import type { Property, WhatIfReport, WorkflowRule } from '../types';
import { Badge, Empty, ErrorState, Loaded, PageHeader, Section, DataTable, Tile, errorMessage } from '../ui';

const PREVIEW_DAYS = 30;
const CHANNELS = ['email', 'sms', 'slack', 'in_app'] as const;

interface ActionDraft {
  type: (typeof RULE_ACTION_TYPES)[number];
  channel: string;
  recipients: string;
  hours: string;
  delta: string;
  kind: string;
}

interface RuleDraft {
  everyProperty: boolean;
  trigger: string;
  target: string;
  leadScore: string;
  messages: string;
  minutes: string;
  window: string;
  source: string;
  actions: ActionDraft[];
}

const newAction = (): ActionDraft => ({
  type: 'send_notification',
  channel: 'email',
  recipients: '',
  hours: '24',
  delta: '10',
  kind: 'follow_up',
});

const emptyDraft = (): RuleDraft => ({
  everyProperty: false,
  trigger: 'toured',
  target: '',
  leadScore: '',
  messages: '',
  minutes: '',
  window: '',
  source: '',
  actions: [newAction()],
});

const number = (text: string) => (text.trim() === '' ? undefined : Number(text));

/** The seed 001 CreateWorkflowRequest the draft stands for (the API checks it; its errors name the fields). */
export function ruleBody(draft: RuleDraft, propertyId: string) {
  const conditions = {
    ...(number(draft.leadScore) !== undefined ? { lead_score: number(draft.leadScore) } : {}),
    ...(number(draft.messages) !== undefined ? { message_count: number(draft.messages) } : {}),
    ...(number(draft.minutes) !== undefined ? { conversation_duration: number(draft.minutes) } : {}),
    ...(draft.window.trim() ? { time_of_day: draft.window.trim() } : {}),
    ...(draft.source.trim() ? { source: draft.source.trim() } : {}),
  };
  return {
    property_id: draft.everyProperty ? null : propertyId,
    trigger_status: draft.trigger,
    target_status: draft.target || null,
    conditions,
    actions: draft.actions.map((action) => {
      switch (action.type) {
        case 'send_notification':
          return {
            type: action.type,
            config: {
              channel: action.channel,
              recipients: action.recipients
                .split(',')
                .map((r) => r.trim())
                .filter(Boolean),
            },
          };
        case 'schedule_follow_up':
          return { type: action.type, config: { after_hours: number(action.hours) ?? 24 } };
        case 'update_lead_score':
          return { type: action.type, config: { delta: number(action.delta) ?? 0 } };
        case 'create_task':
          return { type: action.type, config: { kind: action.kind.trim() || 'follow_up' } };
      }
    }),
  };
}

function describeRule(rule: WorkflowRule): string {
  const actions = rule.actions.map((a) => label(String(a.type))).join(', ');
  const conditions = Object.entries(rule.conditions)
    .map(([name, value]) => `${label(name)} ${String(value)}`)
    .join(', ');
  return `${actions}${conditions ? ` when ${conditions}` : ''}${rule.target_status ? `, then ${label(rule.target_status)}` : ''}`;
}

/** One changed lead in a line per kind of difference. */
function differenceSummary(d: LeadDifferences): string[] {
  const lines: string[] = [];
  if (d.final_status)
    lines.push(`ends ${label(d.final_status.candidate)} instead of ${label(d.final_status.baseline)}`);
  else if (d.statuses) lines.push('takes another path through the statuses');
  for (const n of d.notifications?.added ?? []) {
    lines.push(`+ ${label(n.template)} to ${n.channel ? `${n.recipient} (${label(n.channel)})` : 'nobody'}`);
  }
  for (const n of d.notifications?.removed ?? []) {
    lines.push(`− ${label(n.template)} to ${n.channel ? `${n.recipient} (${label(n.channel)})` : 'nobody'}`);
  }
  for (const f of d.follow_ups?.added ?? [])
    lines.push(`+ follow-up ${label(f.name)} ${dateTime(f.fire_at)}`);
  for (const f of d.follow_ups?.removed ?? []) lines.push(`− follow-up ${label(f.name)}`);
  for (const f of d.follow_ups?.moved ?? [])
    lines.push(`follow-up ${label(f.name)} moves to ${dateTime(f.candidate.fire_at)}`);
  for (const p of d.pushes?.added ?? []) lines.push(`+ push ${label(p.status)} to ${label(p.partner)}`);
  for (const p of d.pushes?.removed ?? []) lines.push(`− push ${label(p.status)} to ${label(p.partner)}`);
  for (const t of d.tasks?.added ?? []) lines.push(`+ task ${label(t.kind.replace(/^task:/, ''))}`);
  for (const t of d.tasks?.removed ?? []) lines.push(`− task ${label(t.kind.replace(/^task:/, ''))}`);
  for (const f of d.fees?.added ?? []) lines.push(`+ referral fee to ${label(f.partner)}`);
  for (const f of d.fees?.removed ?? []) lines.push(`− referral fee to ${label(f.partner)}`);
  return lines;
}

function Preview({ report }: { report: WhatIfReport }) {
  const t = report.totals;
  const changed = report.leads.filter((lead) => lead.changed);
  return (
    <div data-testid="rule-preview" role="status">
      <div className="tiles secondary">
        <Tile
          label="Leads replayed"
          value={count(t.leads)}
          hint={`active in the last ${PREVIEW_DAYS} days`}
        />
        <Tile label="Would change" value={count(t.leads_changed)} />
        <Tile label="Notifications" value={`+${t.notifications.added} −${t.notifications.removed}`} />
        <Tile label="Status changes" value={count(t.final_status.changed)} hint="leads ending elsewhere" />
        <Tile label="Tasks" value={`+${t.tasks.added} −${t.tasks.removed}`} />
      </div>
      {report.next_cursor ? (
        <p className="hint">
          More leads were active than one preview replays: these are the first {count(t.leads)}.
        </p>
      ) : null}
      {t.baseline_differs_from_recorded > 0 || t.inputs_incomplete > 0 ? (
        <p className="hint" data-testid="preview-caveat">
          For {count(t.baseline_differs_from_recorded)} lead(s) today&apos;s rules replay their history
          differently from what was recorded, and {count(t.inputs_incomplete)} have events that were not all
          recorded: read their differences with care.
        </p>
      ) : null}
      {changed.length === 0 ? (
        <Empty title="This rule would have changed nothing.">
          No lead of the last {PREVIEW_DAYS} days would have been treated differently.
        </Empty>
      ) : (
        <DataTable
          label="Leads the rule would change"
          testId="preview-leads"
          rows={changed}
          rowKey={(lead) => lead.lead_id}
          columns={[
            {
              header: 'Lead',
              cell: (lead) => (
                <Link to={`/leads/${lead.lead_id}`} className="mono">
                  {shortId(lead.lead_id)}
                </Link>
              ),
            },
            { header: 'Ends', cell: (lead) => label(lead.final_status.candidate) },
            {
              header: 'What would differ',
              cell: (lead) => (
                <ul className="plain">
                  {differenceSummary(lead.differences).map((line, i) => (
                    <li key={i}>{line}</li>
                  ))}
                </ul>
              ),
            },
          ]}
        />
      )}
    </div>
  );
}

function ActionFields({
  action,
  index,
  onChange,
  onRemove,
}: {
  action: ActionDraft;
  index: number;
  onChange: (action: ActionDraft) => void;
  onRemove?: () => void;
}) {
  const id = (name: string) => `action-${index}-${name}`;
  const set = (field: keyof ActionDraft) => (event: { target: { value: string } }) =>
    onChange({ ...action, [field]: event.target.value });
  return (
    <fieldset>
      <legend>Action {index + 1}</legend>
      <div className="field">
        <label htmlFor={id('type')}>Do</label>
        <select id={id('type')} value={action.type} onChange={set('type')}>
          {RULE_ACTION_TYPES.map((type) => (
            <option key={type} value={type}>
              {label(type)}
            </option>
          ))}
        </select>
      </div>
      {action.type === 'send_notification' ? (
        <>
          <div className="field">
            <label htmlFor={id('channel')}>Channel</label>
            <select id={id('channel')} value={action.channel} onChange={set('channel')}>
              {CHANNELS.map((channel) => (
                <option key={channel} value={channel}>
                  {label(channel)}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={id('recipients')}>Recipients</label>
            <input
              id={id('recipients')}
              value={action.recipients}
              onChange={set('recipients')}
              placeholder="manager@example.com, prospect"
            />
            <p className="hint">
              Comma-separated; &quot;prospect&quot; is the lead, &quot;default&quot; the staff Slack channel.
            </p>
          </div>
        </>
      ) : null}
      {action.type === 'schedule_follow_up' ? (
        <div className="field">
          <label htmlFor={id('hours')}>After hours</label>
          <input id={id('hours')} inputMode="decimal" value={action.hours} onChange={set('hours')} />
        </div>
      ) : null}
      {action.type === 'update_lead_score' ? (
        <div className="field">
          <label htmlFor={id('delta')}>Add to the lead score</label>
          <input id={id('delta')} inputMode="decimal" value={action.delta} onChange={set('delta')} />
        </div>
      ) : null}
      {action.type === 'create_task' ? (
        <div className="field">
          <label htmlFor={id('kind')}>Task</label>
          <input id={id('kind')} value={action.kind} onChange={set('kind')} />
        </div>
      ) : null}
      {onRemove ? (
        <button type="button" className="button small" onClick={onRemove}>
          Remove action {index + 1}
        </button>
      ) : null}
    </fieldset>
  );
}

function NewRule({ propertyId, onSaved }: { propertyId: string; onSaved: () => void }) {
  const { api } = useSession();
  const [draft, setDraft] = useState<RuleDraft>(emptyDraft);
  const [busy, setBusy] = useState<'preview' | 'save'>();
  const [error, setError] = useState<unknown>();
  const [preview, setPreview] = useState<WhatIfReport>();
  const [saved, setSaved] = useState(false);
  const set = (field: keyof RuleDraft) => (event: { target: { value: string } }) => {
    setDraft({ ...draft, [field]: event.target.value });
    setPreview(undefined);
  };
  const fields = error instanceof ApiError ? error.fields : [];
  const fieldError = (name: string) =>
    fields.find(
      (f) => f.field.replace(/^candidate\.workflow_rule\./, '') === name || f.field.endsWith(`.${name}`),
    );

  const run = async (kind: 'preview' | 'save') => {
    setBusy(kind);
    setError(undefined);
    setSaved(false);
    const body = ruleBody(draft, propertyId);
    try {
      if (kind === 'preview') {
        setPreview(
          await api.request<WhatIfReport>('/admin/whatif', {
            method: 'POST',
            body: {
              from_date: new Date(Date.now() - PREVIEW_DAYS * 86_400_000).toISOString(),
              ...(body.property_id ? { filter: { property_id: body.property_id } } : {}),
              candidate: { workflow_rule: body },
              limit: 1000,
            },
          }),
        );
      } else {
        await api.request('/workflow-rules', { method: 'POST', body });
        setSaved(true);
        setPreview(undefined);
        setDraft(emptyDraft());
        onSaved();
      }
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(undefined);
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run('save');
  };

  return (
    <form className="setup-form" onSubmit={submit} aria-label="New rule" noValidate>
      <div className="field checkbox">
        <label htmlFor="rule-every-property">Every property of the workspace</label>
        <input
          id="rule-every-property"
          type="checkbox"
          checked={draft.everyProperty}
          onChange={(event) => setDraft({ ...draft, everyProperty: event.target.checked })}
        />
      </div>
      <div className="field">
        <label htmlFor="rule-trigger">When a lead enters</label>
        <select id="rule-trigger" value={draft.trigger} onChange={set('trigger')}>
          {STATUSES.map((status) => (
            <option key={status} value={status}>
              {label(status)}
            </option>
          ))}
        </select>
      </div>
      <fieldset>
        <legend>And (all optional)</legend>
        <div className="field">
          <label htmlFor="rule-lead-score">Lead score at least</label>
          <input
            id="rule-lead-score"
            inputMode="decimal"
            value={draft.leadScore}
            onChange={set('leadScore')}
          />
        </div>
        <div className="field">
          <label htmlFor="rule-messages">Messages at least</label>
          <input id="rule-messages" inputMode="numeric" value={draft.messages} onChange={set('messages')} />
        </div>
        <div className="field">
          <label htmlFor="rule-minutes">Conversation minutes at least</label>
          <input id="rule-minutes" inputMode="decimal" value={draft.minutes} onChange={set('minutes')} />
        </div>
        <div className="field">
          <label htmlFor="rule-window">Local time between</label>
          <input
            id="rule-window"
            value={draft.window}
            onChange={set('window')}
            placeholder="09:00-17:00"
            aria-invalid={fieldError('conditions.time_of_day') ? true : undefined}
          />
          {fieldError('conditions.time_of_day') ? (
            <p className="field-error">{fieldError('conditions.time_of_day')!.message}</p>
          ) : null}
        </div>
        <div className="field">
          <label htmlFor="rule-source">Source is</label>
          <input id="rule-source" value={draft.source} onChange={set('source')} placeholder="apfm" />
        </div>
      </fieldset>
      {draft.actions.map((action, index) => (
        <ActionFields
          key={index}
          action={action}
          index={index}
          onChange={(changed) => {
            setDraft({ ...draft, actions: draft.actions.map((a, i) => (i === index ? changed : a)) });
            setPreview(undefined);
          }}
          onRemove={
            draft.actions.length > 1
              ? () => setDraft({ ...draft, actions: draft.actions.filter((_, i) => i !== index) })
              : undefined
          }
        />
      ))}
      <div className="form-actions">
        <button
          type="button"
          className="button small"
          onClick={() => setDraft({ ...draft, actions: [...draft.actions, newAction()] })}
        >
          Add an action
        </button>
      </div>
      <div className="field">
        <label htmlFor="rule-target">Then move the lead on to</label>
        <select id="rule-target" value={draft.target} onChange={set('target')}>
          <option value="">(stay)</option>
          {STATUSES.map((status) => (
            <option key={status} value={status}>
              {label(status)}
            </option>
          ))}
        </select>
      </div>
      {error ? (
        <p className="form-error" role="alert" data-testid="rule-error">
          {errorMessage(error)}
          {fields.length > 0 ? `: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}` : ''}
        </p>
      ) : null}
      {saved ? (
        <p className="form-success" role="status" data-testid="rule-saved">
          Saved: leads entering that status from now on follow it.
        </p>
      ) : null}
      <div className="form-actions">
        <button
          type="button"
          className="button"
          disabled={busy !== undefined}
          onClick={() => void run('preview')}
        >
          {busy === 'preview' ? 'Replaying…' : `Preview on last ${PREVIEW_DAYS} days`}
        </button>
        <button type="submit" className="button primary" disabled={busy !== undefined}>
          {busy === 'save' ? 'Saving…' : 'Save rule'}
        </button>
      </div>
      {preview ? <Preview report={preview} /> : null}
    </form>
  );
}

export function Rules() {
  const { api, can } = useSession();
  const properties = useResource(() => api.cached<{ properties: Property[] }>('/properties'), []);
  const [chosen, setChosen] = useState<string>();
  const propertyId = chosen ?? properties.data?.properties[0]?.property_id;
  const rules = useResource(
    (signal) =>
      propertyId
        ? api.get<{ workflows: WorkflowRule[] }>(
            `/properties/${encodeURIComponent(propertyId)}/workflow-rules`,
            {},
            signal,
          )
        : Promise.resolve({ workflows: [] }),
    [propertyId],
  );
  const [changeError, setChangeError] = useState<unknown>();
  const change = async (rule: WorkflowRule, how: 'toggle' | 'delete') => {
    setChangeError(undefined);
    try {
      await api.request(
        `/workflow-rules/${rule.id}`,
        how === 'delete' ? { method: 'DELETE' } : { method: 'PATCH', body: { is_active: !rule.is_active } },
      );
      rules.reload();
    } catch (error) {
      setChangeError(error);
    }
  };

  return (
    <>
      <PageHeader
        title="Rules"
        subtitle="When a lead enters a status and the conditions hold, the rule's actions run. Try a new rule on real leads before saving it."
      />
      <Loaded
        resource={properties}
        isEmpty={(data) => data.properties.length === 0}
        empty={
          <Empty title="No properties yet.">Rules are listed per property; create a property first.</Empty>
        }
      >
        {(data) => (
          <div className="filters">
            <label>
              Property
              <select value={propertyId} onChange={(event) => setChosen(event.target.value)}>
                {data.properties.map((p) => (
                  <option key={p.property_id} value={p.property_id}>
                    {p.name}
                  </option>
                ))}
              </select>
            </label>
          </div>
        )}
      </Loaded>
      {propertyId ? (
        <>
          <Section title="Rules in force">
            {changeError ? <ErrorState error={changeError} /> : null}
            <Loaded
              resource={rules}
              isEmpty={(data) => data.workflows.length === 0}
              empty={
                <Empty title="No rules yet.">Leads follow the lifecycle and follow-up policy alone.</Empty>
              }
            >
              {(data) => (
                <DataTable
                  label="Rules"
                  testId="rules"
                  rows={data.workflows}
                  rowKey={(rule) => rule.id}
                  columns={[
                    { header: 'When a lead enters', cell: (rule) => label(rule.trigger_status) },
                    { header: 'Then', cell: (rule) => describeRule(rule) },
                    {
                      header: 'Applies to',
                      cell: (rule) => (rule.property_id ? 'This property' : 'Every property'),
                    },
                    {
                      header: 'State',
                      cell: (rule) => (
                        <Badge tone={rule.is_active ? 'good' : 'muted'}>
                          {rule.is_active ? 'active' : 'off'}
                        </Badge>
                      ),
                    },
                    can('admin') && {
                      header: 'Change',
                      cell: (rule) => (
                        <>
                          <button
                            type="button"
                            className="button small"
                            onClick={() => void change(rule, 'toggle')}
                          >
                            {rule.is_active ? 'Turn off' : 'Turn on'}
                          </button>{' '}
                          <button
                            type="button"
                            className="button small"
                            onClick={() => void change(rule, 'delete')}
                          >
                            Delete
                          </button>
                        </>
                      ),
                    },
                  ]}
                />
              )}
            </Loaded>
          </Section>
          {can('admin') ? (
            <Section title="New rule">
              <NewRule propertyId={propertyId} onSaved={rules.reload} />
            </Section>
          ) : (
            <p className="hint">Creating and previewing rules takes an API key with the admin permission.</p>
          )}
        </>
      ) : null}
    </>
  );
}
