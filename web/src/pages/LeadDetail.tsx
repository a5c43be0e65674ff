// Seed 004 section 4.6 and the lead's journey: details, custom metadata, status change, history timeline,
// pending follow-ups, partner sync states and a link to the lead's run in the Temporal UI.
import { useEffect, useState, type FormEvent } from 'react';
import { ApiError } from '../api';
import { MetadataList } from '../Metadata';
import { dateTime, label, money, relative, STATUSES } from '../format';
import { useNow, useResource, useThrottled } from '../hooks';
import { Link } from '../router';
import { useFeed, useSession } from '../session';
import type { ContactConversion, Lead, PartnerSync, StatusChange, UpdateStatusResult } from '../types';
import {
  Badge,
  Empty,
  ErrorState,
  errorMessage,
  Loaded,
  PageHeader,
  Section,
  StatusBadge,
  DataTable,
} from '../ui';
import { leadName } from './Leads';
import { LeadSequences, LeadTour } from './LeadNurture';

const ENTRY_TONE = { applied: 'info', skipped: 'muted', conflict: 'bad', refused: 'warn' } as const;
const OUTCOME_TONE = {
  success: 'good',
  pending: 'info',
  failed: 'bad',
  conflict: 'bad',
  skipped: 'muted',
} as const;

function StatusForm({ lead, onChanged }: { lead: Lead; onChanged: () => void }) {
  const { api } = useSession();
  const options = lead.allowed_next ?? STATUSES.filter((s) => s !== lead.status);
  const [to, setTo] = useState(options[0] ?? '');
  const [reason, setReason] = useState('');
  const [tourAt, setTourAt] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<UpdateStatusResult>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (!options.includes(to)) setTo(options[0] ?? '');
  }, [options, to]);

  if (options.length === 0) {
    return <p className="muted">{label(lead.status)} is final: this journey takes no more status changes.</p>;
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (to === 'tour_scheduled' && !tourAt) {
      setError('A scheduled tour needs its date and time.');
      return;
    }
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    try {
      const answer = await api.request<UpdateStatusResult>(`/leads/${lead.id}/status`, {
        method: 'PUT',
        body: {
          new_status: to,
          updated_by: 'staff',
          ...(reason.trim() ? { status_reason: reason.trim() } : {}),
          ...(to === 'tour_scheduled' && tourAt ? { tour_at: new Date(tourAt).toISOString() } : {}),
        },
      });
      setResult(answer);
      setReason('');
      onChanged();
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === 'invalid_transition') {
        const allowed = (caught.details.allowed as string[] | undefined) ?? [];
        setError(
          `Not allowed from ${label(String(caught.details.from ?? lead.status))}. Allowed: ${allowed.map(label).join(', ') || 'none'}.`,
        );
      } else if (caught instanceof ApiError && caught.code === 'missing_fields') {
        const missing = (caught.details.missing as string[] | undefined) ?? [];
        setError(`${label(to)} needs: ${missing.map(label).join(', ')}.`);
      } else setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="inline-form" onSubmit={(event) => void submit(event)} aria-label="Change status">
      <div className="field">
        <label htmlFor="new-status">New status</label>
        <select id="new-status" value={to} onChange={(event) => setTo(event.target.value)}>
          {options.map((status) => (
            <option key={status} value={status}>
              {label(status)}
            </option>
          ))}
        </select>
      </div>
      {to === 'tour_scheduled' ? (
        <div className="field">
          <label htmlFor="tour-at">Tour date and time</label>
          <input
            id="tour-at"
            type="datetime-local"
            value={tourAt}
            onChange={(event) => setTourAt(event.target.value)}
            required
          />
        </div>
      ) : null}
      <div className="field grow">
        <label htmlFor="status-reason">Reason (optional)</label>
        <input
          id="status-reason"
          value={reason}
          maxLength={2000}
          onChange={(event) => setReason(event.target.value)}
        />
      </div>
      <button type="submit" className="button primary" disabled={busy}>
        {busy ? 'Saving…' : 'Change status'}
      </button>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      {result ? (
        <p className="form-success" role="status" data-testid="status-result">
          Now {label(result.new_status)}. {result.notifications_sent} notification
          {result.notifications_sent === 1 ? '' : 's'} queued
          {result.workflow_actions_triggered.length > 0
            ? `; rules fired: ${result.workflow_actions_triggered.join(', ')}`
            : ''}
          .
        </p>
      ) : null}
    </form>
  );
}

function History({ changes }: { changes: StatusChange[] }) {
  return (
    <ol className="timeline" data-testid="status-history">
      {changes.map((change) => (
        <li
          key={change.id}
          className={`timeline-item entry-${change.entry_type}`}
          data-status={change.new_status}
        >
          <span className="dot" aria-hidden="true" />
          <div>
            <div>
              {change.old_status ? (
                <>
                  {label(change.old_status)} → <strong>{label(change.new_status)}</strong>
                </>
              ) : (
                <strong>Inquiry: {label(change.new_status)}</strong>
              )}{' '}
              {change.entry_type !== 'applied' ? (
                <Badge tone={ENTRY_TONE[change.entry_type]}>{change.entry_type}</Badge>
              ) : null}
            </div>
            <div className="muted small">
              <time dateTime={change.created_at}>{dateTime(change.created_at)}</time> · {change.updated_by}
              {change.actor ? ` (${change.actor})` : ''} · {change.direction}
              {change.journey > 1 ? ` · journey ${change.journey}` : ''}
            </div>
            {change.status_reason ? <div className="reason">“{change.status_reason}”</div> : null}
          </div>
        </li>
      ))}
    </ol>
  );
}

function Syncs({ lead }: { lead: Lead }) {
  const { api, can } = useSession();
  const syncs = useResource(
    (signal) => api.get<{ syncs: PartnerSync[] }>(`/leads/${lead.id}/syncs`, {}, signal),
    [lead.id, lead.status],
  );
  const [repushError, setRepushError] = useState<unknown>();
  const pending = syncs.data?.syncs.some((s) => s.outcome === 'pending');
  // Pushes finish without a feed event: look again while any is under way.
  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(syncs.reload, 10_000);
    return () => clearInterval(timer);
  }, [pending, syncs.reload]);

  const repush = async (sync: PartnerSync) => {
    setRepushError(undefined);
    try {
      await api.request(`/leads/${lead.id}/syncs/${sync.id}/repush`, { method: 'POST' });
      syncs.reload();
    } catch (error) {
      setRepushError(error);
    }
  };

  return (
    <Section title="Partner sync">
      {repushError ? <ErrorState error={repushError} /> : null}
      <Loaded
        resource={syncs}
        isEmpty={(data) => data.syncs.length === 0}
        empty={
          <Empty title="No partner pushes for this lead.">
            Status changes are pushed to every connected partner that takes them.
          </Empty>
        }
      >
        {(data) => (
          <DataTable
            label="Partner pushes"
            testId="syncs"
            rows={data.syncs}
            rowKey={(sync) => sync.id}
            columns={[
              { header: 'Partner', rowHeader: true, cell: (sync) => label(sync.partner) },
              {
                header: 'Status sent',
                cell: (sync) => (
                  <>
                    {label(sync.status)}
                    {sync.partner_value && sync.partner_value !== sync.status ? (
                      <span className="muted"> ({sync.partner_value})</span>
                    ) : null}
                    {sync.response?.sent?.event_name ? (
                      <div className="muted small" data-testid="conversion-sent">
                        {sync.response.sent.event_name}
                        {sync.response.sent.value !== undefined
                          ? ` · ${money(sync.response.sent.value, sync.response.sent.currency)}`
                          : ''}
                      </div>
                    ) : null}
                  </>
                ),
              },
              {
                header: 'Outcome',
                cell: (sync) => (
                  <>
                    <Badge tone={OUTCOME_TONE[sync.outcome] ?? 'muted'}>{sync.outcome}</Badge>
                    {sync.error ? <div className="muted small">{sync.error}</div> : null}
                  </>
                ),
              },
              { header: 'Attempts', numeric: true, cell: (sync) => sync.attempts },
              { header: 'Updated', cell: (sync) => dateTime(sync.updated_at) },
              {
                header: <span className="visually-hidden">Actions</span>,
                cell: (sync) =>
                  can('update') && (sync.outcome === 'failed' || sync.outcome === 'conflict') ? (
                    <button type="button" className="button small" onClick={() => void repush(sync)}>
                      Push again
                    </button>
                  ) : null,
              },
            ]}
          />
        )}
      </Loaded>
    </Section>
  );
}

export function LeadDetail({ id }: { id: string }) {
  const { api, can, config } = useSession();
  const now = useNow();
  const lead = useResource((signal) => api.get<Lead>(`/leads/${encodeURIComponent(id)}`, {}, signal), [id]);
  const history = useResource(
    (signal) =>
      api.get<{ status_changes: StatusChange[]; total_count: number }>(
        `/leads/${encodeURIComponent(id)}/status-history`,
        { types: 'applied,skipped,conflict,refused', limit: 200 },
        signal,
      ),
    [id],
  );
  const conversion = useResource(
    (signal) => api.get<ContactConversion>(`/contacts/${encodeURIComponent(id)}/conversion`, {}, signal),
    [id],
  );
  const refresh = useThrottled(() => {
    lead.reload();
    history.reload();
    conversion.reload();
  }, 1000);
  useFeed((event) => {
    if (event.lead_id === id) refresh();
  });

  if (lead.data === undefined) {
    return (
      <>
        <PageHeader title="Lead" />
        <Loaded resource={lead}>{() => null}</Loaded>
      </>
    );
  }
  const data = lead.data;
  const runUrl = `${config.temporal_ui_url}/namespaces/${encodeURIComponent(config.temporal_namespace)}/workflows/${encodeURIComponent(data.workflow_id)}`;
  const followUps = data.follow_ups ?? [];

  return (
    <>
      <PageHeader
        title={leadName(data)}
        subtitle={
          <>
            <span data-testid="lead-status">
              <StatusBadge status={data.status} />
            </span>{' '}
            since {relative(data.status_changed_at, now)} · <Link to="/leads">All leads</Link>
          </>
        }
        actions={
          <a
            className="button"
            href={runUrl}
            target="_blank"
            rel="noopener noreferrer"
            data-testid="temporal-link"
          >
            Open run in Temporal UI<span className="visually-hidden"> (opens in a new tab)</span>
          </a>
        }
      />
      {lead.error ? <ErrorState error={lead.error} onRetry={lead.reload} /> : null}
      <div className="grid-2">
        <Section title="Details">
          <dl className="details">
            <div>
              <dt>Email</dt>
              <dd>{data.email ?? '—'}</dd>
            </div>
            <div>
              <dt>Phone</dt>
              <dd>
                {data.phone ?? '—'}
                {data.sms_opted_out ? <Badge tone="warn">SMS opted out</Badge> : null}
              </dd>
            </div>
            <div>
              <dt>Property</dt>
              <dd>{data.property_id ?? '—'}</dd>
            </div>
            <div>
              <dt>Source</dt>
              <dd>
                {data.source}
                {data.sources.length > 1 ? (
                  <span className="muted">
                    {' '}
                    (also {data.sources.filter((s) => s !== data.source).join(', ')})
                  </span>
                ) : null}
              </dd>
            </div>
            <div>
              <dt>Partner ids</dt>
              <dd>
                {Object.keys(data.external_ids).length === 0
                  ? '—'
                  : Object.entries(data.external_ids)
                      .map(([partner, value]) => `${partner}: ${value}`)
                      .join(', ')}
              </dd>
            </div>
            <div>
              <dt>Created</dt>
              <dd>{dateTime(data.created_at)}</dd>
            </div>
            <div>
              <dt>Journey</dt>
              <dd>
                #{data.journey}{' '}
                {data.live ? <Badge tone="good">running</Badge> : <Badge tone="muted">not running</Badge>}
              </dd>
            </div>
            <div>
              <dt>Workflow id</dt>
              <dd className="mono small">{data.workflow_id}</dd>
            </div>
          </dl>
          {data.message ? <blockquote className="message">{data.message}</blockquote> : null}
        </Section>
        <Section title="Pending follow-ups">
          {followUps.length > 0 ? (
            <ul className="plain">
              {followUps.map((f, i) => {
                const due = f.fire_at;
                return (
                  <li key={i}>
                    <strong>{label(f.name)}</strong>{' '}
                    {due ? (
                      <span className="muted">
                        {relative(due, now)} ({dateTime(due)})
                      </span>
                    ) : null}
                  </li>
                );
              })}
            </ul>
          ) : data.next_follow_up_at ? (
            <p data-testid="next-follow-up">
              Next follow-up {relative(data.next_follow_up_at, now)}{' '}
              <span className="muted">({dateTime(data.next_follow_up_at)})</span>
            </p>
          ) : (
            <Empty title="Nothing scheduled." />
          )}
        </Section>
      </div>
      <Section title="Change status">
        {can('update') ? (
          <StatusForm lead={data} onChanged={refresh} />
        ) : (
          <p className="muted">This API key lacks the update permission.</p>
        )}
      </Section>
      <LeadTour lead={data} onBooked={refresh} />
      <LeadSequences lead={data} />
      <div className="grid-2">
        <Section title="Custom metadata">
          {Object.keys(data.custom_data).length === 0 &&
          Object.keys(conversion.data?.custom_metadata ?? {}).length === 0 ? (
            <Empty title="No custom fields." />
          ) : (
            <MetadataList data={{ ...data.custom_data, ...(conversion.data?.custom_metadata ?? {}) }} />
          )}
        </Section>
        <Section title="Conversion">
          <Loaded resource={conversion}>
            {(c) => (
              <dl className="details">
                <div>
                  <dt>Status</dt>
                  <dd>{label(c.conversion_status)}</dd>
                </div>
                <div>
                  <dt>Lifetime value</dt>
                  <dd>{money(c.lifetime_value)}</dd>
                </div>
                <div>
                  <dt>Conversions</dt>
                  <dd>{c.conversion_count}</dd>
                </div>
                <div>
                  <dt>Converted</dt>
                  <dd>{dateTime(c.converted_timestamp)}</dd>
                </div>
              </dl>
            )}
          </Loaded>
        </Section>
      </div>
      <Section title="Status history">
        <Loaded
          resource={history}
          isEmpty={(h) => h.status_changes.length === 0}
          empty={<Empty title="No status changes recorded yet." />}
        >
          {(h) => <History changes={[...h.status_changes].reverse()} />}
        </Loaded>
      </Section>
      <Syncs lead={data} />
    </>
  );
}
