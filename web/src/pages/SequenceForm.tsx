// The form that defines a nurture sequence: its trigger, its steps (a wait, then an email or SMS template) and
// when a lead leaves it. Field errors from the server land beside the field they name.
import { useState, type FormEvent } from 'react';
import { ApiError } from '../api';
import { label, STATUSES } from '../format';
import { useResource } from '../hooks';
import { useSession } from '../session';
import type { MessageTemplate, Property, Sequence, SequenceChannel } from '../types';
import { errorMessage } from '../ui';

interface StepDraft {
  wait: string;
  channel: SequenceChannel;
  template_id: string;
}

interface Draft {
  name: string;
  property_id: string;
  event: 'inquiry' | 'no_show' | 'status';
  sources: string;
  status: string;
  reasons: string;
  steps: StepDraft[];
  anyChange: boolean;
  exitStatuses: string[];
  reply: boolean;
  call: boolean;
}

const list = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function draftOf(sequence?: Sequence): Draft {
  const trigger = sequence?.trigger;
  return {
    name: sequence?.name ?? '',
    property_id: sequence?.property_id ?? '',
    event: trigger?.event ?? 'inquiry',
    sources: trigger?.event === 'inquiry' ? (trigger.sources ?? []).join(', ') : '',
    status: trigger?.event === 'status' ? trigger.status : 'lost',
    reasons: trigger?.event === 'status' ? (trigger.reasons ?? []).join(', ') : '',
    steps: sequence?.steps.map((s) => ({ wait: s.wait, channel: s.channel, template_id: s.template_id })) ?? [
      { wait: '1h', channel: 'email', template_id: '' },
    ],
    anyChange: !sequence || sequence.exit_on.statuses === 'any',
    exitStatuses: sequence && sequence.exit_on.statuses !== 'any' ? sequence.exit_on.statuses : [],
    reply: sequence?.exit_on.reply ?? true,
    call: sequence?.exit_on.call ?? true,
  };
}

function bodyOf(draft: Draft) {
  return {
    name: draft.name.trim(),
    property_id: draft.property_id || null,
    trigger:
      draft.event === 'inquiry'
        ? { event: 'inquiry', ...(list(draft.sources).length ? { sources: list(draft.sources) } : {}) }
        : draft.event === 'no_show'
          ? { event: 'no_show' }
          : {
              event: 'status',
              status: draft.status,
              ...(list(draft.reasons).length ? { reasons: list(draft.reasons) } : {}),
            },
    steps: draft.steps.map((s) => ({ wait: s.wait.trim(), channel: s.channel, template_id: s.template_id })),
    exit_on: {
      statuses: draft.anyChange || draft.exitStatuses.length === 0 ? 'any' : draft.exitStatuses,
      reply: draft.reply,
      call: draft.call,
    },
  };
}

export function SequenceForm({
  sequence,
  onSaved,
  onCancel,
}: {
  sequence?: Sequence;
  onSaved: (saved: Sequence) => void;
  onCancel?: () => void;
}) {
  const { api } = useSession();
  const [draft, setDraft] = useState<Draft>(() => draftOf(sequence));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const templates = useResource(
    (signal) => api.get<{ templates: MessageTemplate[] }>('/message-templates', {}, signal),
    [],
  );
  const properties = useResource(() => api.cached<{ properties: Property[] }>('/properties'), []);
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  const setStep = (i: number, patch: Partial<StepDraft>) =>
    setDraft((d) => ({ ...d, steps: d.steps.map((s, j) => (j === i ? { ...s, ...patch } : s)) }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const local: Record<string, string> = {};
    if (!draft.name.trim()) local.name = 'Required.';
    draft.steps.forEach((s, i) => {
      if (!s.wait.trim()) local[`steps.${i}.wait`] = 'Required (0 for at once).';
      if (!s.template_id) local[`steps.${i}.template_id`] = 'Pick a template.';
    });
    setErrors(local);
    setFormError(undefined);
    if (Object.keys(local).length > 0) return;
    setBusy(true);
    try {
      const saved = sequence
        ? await api.request<Sequence>(`/sequences/${sequence.id}`, { method: 'PATCH', body: bodyOf(draft) })
        : await api.request<Sequence>('/sequences', { method: 'POST', body: bodyOf(draft) });
      onSaved(saved);
    } catch (error) {
      if (error instanceof ApiError && error.fields.length > 0) {
        setErrors(Object.fromEntries(error.fields.map((f) => [f.field, f.message])));
        setFormError('The server refused some fields.');
      } else setFormError(errorMessage(error));
    } finally {
      setBusy(false);
    }
  };

  const fieldError = (name: string) =>
    errors[name] ? (
      <p className="field-error" id={`${name}-error`}>
        {errors[name]}
      </p>
    ) : null;
  const choices = (channel: SequenceChannel) =>
    (templates.data?.templates ?? []).filter((t) => !t.channel || t.channel === channel);

  return (
    <form
      className="setup-form"
      onSubmit={(e) => void submit(e)}
      aria-label={sequence ? 'Edit sequence' : 'New sequence'}
      noValidate
    >
      <div className="field" data-field="name">
        <label htmlFor="sequence-name">Name</label>
        <input
          id="sequence-name"
          value={draft.name}
          maxLength={200}
          onChange={(e) => set({ name: e.target.value })}
        />
        {fieldError('name')}
      </div>
      <div className="field" data-field="property_id">
        <label htmlFor="sequence-property">Property</label>
        <select
          id="sequence-property"
          value={draft.property_id}
          onChange={(e) => set({ property_id: e.target.value })}
        >
          <option value="">Every property</option>
          {(properties.data?.properties ?? []).map((p) => (
            <option key={p.property_id} value={p.property_id}>
              {p.name}
            </option>
          ))}
        </select>
        {fieldError('property_id')}
      </div>
      <fieldset className="field-group">
        <legend>Trigger</legend>
        <div className="field">
          <label htmlFor="sequence-trigger">Starts when</label>
          <select
            id="sequence-trigger"
            value={draft.event}
            onChange={(e) => set({ event: e.target.value as Draft['event'] })}
          >
            <option value="inquiry">A lead inquires</option>
            <option value="no_show">A lead misses a tour</option>
            <option value="status">A lead reaches a status</option>
          </select>
        </div>
        {draft.event === 'inquiry' ? (
          <div className="field">
            <label htmlFor="sequence-sources">Only from sources (comma-separated, empty for all)</label>
            <input
              id="sequence-sources"
              value={draft.sources}
              onChange={(e) => set({ sources: e.target.value })}
            />
          </div>
        ) : null}
        {draft.event === 'status' ? (
          <>
            <div className="field">
              <label htmlFor="sequence-status">Status</label>
              <select
                id="sequence-status"
                value={draft.status}
                onChange={(e) => set({ status: e.target.value })}
              >
                {STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {label(s)}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor="sequence-reasons">Only with a reason containing (comma-separated)</label>
              <input
                id="sequence-reasons"
                value={draft.reasons}
                onChange={(e) => set({ reasons: e.target.value })}
              />
            </div>
          </>
        ) : null}
        {fieldError('trigger.status')}
      </fieldset>
      <fieldset className="field-group" data-testid="sequence-steps">
        <legend>Steps</legend>
        {draft.steps.map((step, i) => (
          <div className="inline-form" key={i} data-step={i}>
            <div className="field" data-field={`steps.${i}.wait`}>
              <label htmlFor={`step-${i}-wait`}>Step {i + 1}: wait</label>
              <input
                id={`step-${i}-wait`}
                value={step.wait}
                placeholder="2d, 4h 30m, P1W"
                onChange={(e) => setStep(i, { wait: e.target.value })}
              />
              {fieldError(`steps.${i}.wait`)}
            </div>
            <div className="field">
              <label htmlFor={`step-${i}-channel`}>then send by</label>
              <select
                id={`step-${i}-channel`}
                value={step.channel}
                onChange={(e) => setStep(i, { channel: e.target.value as SequenceChannel })}
              >
                <option value="email">Email</option>
                <option value="sms">SMS</option>
              </select>
              {fieldError(`steps.${i}.channel`)}
            </div>
            <div className="field grow" data-field={`steps.${i}.template_id`}>
              <label htmlFor={`step-${i}-template`}>template</label>
              <select
                id={`step-${i}-template`}
                value={step.template_id}
                onChange={(e) => setStep(i, { template_id: e.target.value })}
              >
                <option value="">Choose…</option>
                {choices(step.channel).map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.built_in ? `${t.name} (built in)` : t.name}
                  </option>
                ))}
              </select>
              {fieldError(`steps.${i}.template_id`)}
            </div>
            {draft.steps.length > 1 ? (
              <button
                type="button"
                className="button small ghost"
                onClick={() => set({ steps: draft.steps.filter((_, j) => j !== i) })}
              >
                Remove step {i + 1}
              </button>
            ) : null}
          </div>
        ))}
        {draft.steps.length < 20 ? (
          <button
            type="button"
            className="button small"
            onClick={() =>
              set({ steps: [...draft.steps, { wait: '1d', channel: 'email', template_id: '' }] })
            }
          >
            Add a step
          </button>
        ) : null}
      </fieldset>
      <fieldset className="field-group">
        <legend>A lead leaves the sequence when</legend>
        <label>
          <input
            type="checkbox"
            checked={draft.anyChange}
            onChange={(e) => set({ anyChange: e.target.checked })}
          />{' '}
          its status changes
        </label>
        {!draft.anyChange ? (
          <div className="chips" role="group" aria-label="Statuses that end it">
            {STATUSES.map((s) => (
              <label key={s} className="chip">
                <input
                  type="checkbox"
                  checked={draft.exitStatuses.includes(s)}
                  onChange={(e) =>
                    set({
                      exitStatuses: e.target.checked
                        ? [...draft.exitStatuses, s]
                        : draft.exitStatuses.filter((x) => x !== s),
                    })
                  }
                />{' '}
                {label(s)}
              </label>
            ))}
          </div>
        ) : null}
        <label>
          <input type="checkbox" checked={draft.reply} onChange={(e) => set({ reply: e.target.checked })} />{' '}
          it replies
        </label>
        <label>
          <input type="checkbox" checked={draft.call} onChange={(e) => set({ call: e.target.checked })} /> a
          call happens
        </label>
        <p className="muted small">
          An unsubscribe or STOP always ends it, and no message goes outside quiet hours.
        </p>
      </fieldset>
      {formError ? (
        <p className="form-error" role="alert" data-testid="form-error">
          {formError}
        </p>
      ) : null}
      <div className="form-actions">
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Saving…' : sequence ? 'Save changes' : 'Create sequence'}
        </button>
        {onCancel ? (
          <button type="button" className="button ghost" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}
