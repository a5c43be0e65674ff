// Nurture sequences (seed 002's email campaigns): the workspace's sequences, a form to define one, its message
// templates, and whether opens and clicks of sequence email are tracked.
import { useState, type FormEvent } from 'react';
import { ApiError } from '../api';
import { label } from '../format';
import { useResource } from '../hooks';
import { Link, navigate } from '../router';
import { useSession } from '../session';
import type { MessageTemplate, Sequence, SequenceChannel } from '../types';
import { Badge, Empty, ErrorState, errorMessage, Loaded, PageHeader, Section, DataTable } from '../ui';
import { SequenceForm } from './SequenceForm';

/** `Inquiry from facebook`, `No-show`, `Lost (reason: price)`. */
export function triggerText(sequence: Sequence): string {
  const t = sequence.trigger;
  if (t.event === 'inquiry')
    return t.sources?.length ? `Inquiry from ${t.sources.join(', ')}` : 'Any inquiry';
  if (t.event === 'no_show') return 'Tour no-show';
  return `${label(t.status)}${t.reasons?.length ? ` (reason: ${t.reasons.join(', ')})` : ''}`;
}

export function stepsText(sequence: Sequence): string {
  return sequence.steps.map((s) => `${s.channel === 'sms' ? 'SMS' : 'Email'} after ${s.wait}`).join(' → ');
}

function TemplateForm({ onSaved }: { onSaved: () => void }) {
  const { api } = useSession();
  const [name, setName] = useState('');
  const [channel, setChannel] = useState<SequenceChannel>('email');
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setErrors({});
    try {
      await api.request('/message-templates', {
        method: 'POST',
        body: { name, channel, ...(channel === 'email' ? { subject } : {}), body },
      });
      setName('');
      setSubject('');
      setBody('');
      onSaved();
    } catch (caught) {
      if (caught instanceof ApiError && caught.fields.length > 0) {
        setErrors(Object.fromEntries(caught.fields.map((f) => [f.field, f.message])));
      } else setError(errorMessage(caught));
    }
  };
  return (
    <form className="setup-form" onSubmit={(e) => void submit(e)} aria-label="New template">
      <div className="inline-form">
        <div className="field grow">
          <label htmlFor="template-name">Template name</label>
          <input id="template-name" value={name} onChange={(e) => setName(e.target.value)} />
          {errors.name ? <p className="field-error">{errors.name}</p> : null}
        </div>
        <div className="field">
          <label htmlFor="template-channel">Channel</label>
          <select
            id="template-channel"
            value={channel}
            onChange={(e) => setChannel(e.target.value as SequenceChannel)}
          >
            <option value="email">Email</option>
            <option value="sms">SMS</option>
          </select>
        </div>
      </div>
      {channel === 'email' ? (
        <div className="field">
          <label htmlFor="template-subject">Subject</label>
          <input id="template-subject" value={subject} onChange={(e) => setSubject(e.target.value)} />
          {errors.subject ? <p className="field-error">{errors.subject}</p> : null}
        </div>
      ) : null}
      <div className="field">
        <label htmlFor="template-body">Message</label>
        <textarea id="template-body" rows={4} value={body} onChange={(e) => setBody(e.target.value)} />
        <p className="hint muted small">
          Placeholders: {'{first_name}'}, {'{lead_name}'}, {'{property_name}'}, {'{tour_datetime}'}. Links are
          tracked.
        </p>
        {errors.body ? <p className="field-error">{errors.body}</p> : null}
      </div>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="form-actions">
        <button type="submit" className="button">
          Save template
        </button>
      </div>
    </form>
  );
}

function Tracking() {
  const { api, workspaceId, can } = useSession();
  const settings = useResource(
    (signal) => api.get<{ email_tracking: boolean }>(`/workspaces/${workspaceId}/settings`, {}, signal),
    [workspaceId],
  );
  const [error, setError] = useState<unknown>();
  const toggle = async (on: boolean) => {
    setError(undefined);
    try {
      await api.request(`/workspaces/${workspaceId}/settings`, {
        method: 'PATCH',
        body: { email_tracking: on },
      });
      settings.reload();
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <Loaded resource={settings}>
      {(data) => (
        <>
          {error ? <ErrorState error={error} /> : null}
          <label>
            <input
              type="checkbox"
              checked={data.email_tracking}
              disabled={!can('admin')}
              onChange={(e) => void toggle(e.target.checked)}
              data-testid="email-tracking"
            />{' '}
            Track opens (a pixel) and clicks (signed links) of sequence email
          </label>
        </>
      )}
    </Loaded>
  );
}

export function Sequences() {
  const { api, can } = useSession();
  const [creating, setCreating] = useState(false);
  const sequences = useResource((signal) => api.get<{ sequences: Sequence[] }>('/sequences', {}, signal), []);
  const templates = useResource(
    (signal) => api.get<{ templates: MessageTemplate[] }>('/message-templates', {}, signal),
    [],
  );
  const own = (templates.data?.templates ?? []).filter((t) => !t.built_in);

  return (
    <>
      <PageHeader
        title="Sequences"
        subtitle="Follow-up messages that run inside each lead's journey, until the lead moves on or answers."
        actions={
          can('update') && !creating ? (
            <button type="button" className="button primary" onClick={() => setCreating(true)}>
              New sequence
            </button>
          ) : null
        }
      />
      {creating ? (
        <Section title="New sequence">
          <SequenceForm
            onSaved={(saved) => navigate(`/sequences/${saved.id}`)}
            onCancel={() => setCreating(false)}
          />
        </Section>
      ) : null}
      <Section title="All sequences">
        <Loaded
          resource={sequences}
          isEmpty={(d) => d.sequences.length === 0}
          empty={
            <Empty title="No sequences yet.">
              Create one to follow up new inquiries, no-shows or lost leads.
            </Empty>
          }
        >
          {(data) => (
            <DataTable
              label="Sequences"
              testId="sequences-table"
              rows={data.sequences}
              rowKey={(s) => s.id}
              rowProps={(s) => ({ 'data-sequence-id': s.id })}
              columns={[
                {
                  header: 'Name',
                  rowHeader: true,
                  cell: (s) => <Link to={`/sequences/${s.id}`}>{s.name}</Link>,
                },
                { header: 'Trigger', cell: (s) => triggerText(s) },
                { header: 'Steps', cell: (s) => stepsText(s) },
                {
                  header: 'State',
                  cell: (s) =>
                    s.is_active ? <Badge tone="good">active</Badge> : <Badge tone="muted">paused</Badge>,
                },
              ]}
            />
          )}
        </Loaded>
      </Section>
      <div className="grid-2">
        <Section title="Message templates">
          {own.length > 0 ? (
            <ul className="plain" data-testid="templates">
              {own.map((t) => (
                <li key={t.id}>
                  <strong>{t.name}</strong>{' '}
                  <span className="muted small">
                    ({t.channel ?? 'any'} · {t.id})
                  </span>
                </li>
              ))}
            </ul>
          ) : (
            <Empty title="Only the built-in templates so far." />
          )}
          {can('update') ? <TemplateForm onSaved={templates.reload} /> : null}
        </Section>
        <Section title="Email tracking">
          <Tracking />
        </Section>
      </div>
    </>
  );
}
