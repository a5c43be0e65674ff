// The workspace's leads: search and status filter, newest first, refreshed as the feed reports changes.
import { useState, type FormEvent } from 'react';
import { dateTime, label, relative, STATUSES } from '../format';
import { useNow, useResource, useThrottled } from '../hooks';
import { ExportButtons } from '../ExportButtons';
import { displayName } from '../leadNames';
import { Link } from '../router';
import { useFeed, useSession } from '../session';
import type { Lead } from '../types';
import { Empty, Loaded, PageHeader, Section, StatusBadge, DataTable } from '../ui';

export function leadName(lead: Pick<Lead, 'first_name' | 'last_name' | 'email' | 'phone' | 'id'>): string {
  return displayName(lead) ?? `Lead ${lead.id.slice(0, 8)}`;
}

export function Leads() {
  const { api } = useSession();
  const now = useNow();
  const [draft, setDraft] = useState('');
  const [q, setQ] = useState('');
  const [status, setStatus] = useState('');
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const leads = useResource(
    (signal) =>
      api.get<{ leads: Lead[]; next_cursor: string | null }>(
        '/leads',
        { q, status, limit: 25, cursor },
        signal,
      ),
    [q, status, cursor],
  );
  const refresh = useThrottled(leads.reload, 10_000);
  useFeed((event) => {
    if (event.type === 'status_changed' && !cursor) refresh();
  });

  const search = (event: FormEvent) => {
    event.preventDefault();
    setCursors([]);
    setQ(draft.trim());
  };

  return (
    <>
      <PageHeader
        title="Leads"
        subtitle="Newest first. Open a lead for its journey, metadata and partner syncs."
        actions={<ExportButtons path="/leads" query={{ q, status }} name="leads" what="leads" />}
      />
      <form className="filters" role="search" aria-label="Find leads" onSubmit={search}>
        <label>
          Search
          <input
            type="search"
            value={draft}
            placeholder="Name, email, phone or message"
            onChange={(event) => setDraft(event.target.value)}
          />
        </label>
        <label>
          Status
          <select
            value={status}
            onChange={(event) => {
              setCursors([]);
              setStatus(event.target.value);
            }}
          >
            <option value="">Any status</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {label(s)}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="button">
          Search
        </button>
      </form>
      <Section title="Leads">
        <Loaded
          resource={leads}
          isEmpty={(data) => data.leads.length === 0}
          empty={
            <Empty title={q || status ? 'No lead matches.' : 'No leads yet.'}>
              {q || status
                ? 'Clear the search or pick another status.'
                : 'Leads arrive from partner webhooks, web forms and POST /api/v1/leads.'}
            </Empty>
          }
        >
          {(data) => (
            <>
              <DataTable
                label="Leads"
                testId="leads-table"
                rows={data.leads}
                rowKey={(lead) => lead.id}
                rowProps={(lead) => ({ 'data-lead-id': lead.id })}
                columns={[
                  {
                    header: 'Lead',
                    rowHeader: true,
                    cell: (lead) => <Link to={`/leads/${lead.id}`}>{leadName(lead)}</Link>,
                  },
                  { header: 'Status', cell: (lead) => <StatusBadge status={lead.status} /> },
                  { header: 'Source', cell: (lead) => lead.source },
                  { header: 'Property', cell: (lead) => lead.property_id ?? '—' },
                  {
                    header: 'Created',
                    cell: (lead) => relative(lead.created_at, now),
                    cellProps: (lead) => ({ title: dateTime(lead.created_at) }),
                  },
                  {
                    header: 'Next follow-up',
                    cell: (lead) => (lead.next_follow_up_at ? relative(lead.next_follow_up_at, now) : '—'),
                  },
                ]}
              />
              <div className="pager">
                <button
                  type="button"
                  className="button small"
                  disabled={cursors.length === 0}
                  onClick={() => setCursors((c) => c.slice(0, -1))}
                >
                  Newer
                </button>
                <button
                  type="button"
                  className="button small"
                  disabled={!data.next_cursor}
                  onClick={() => data.next_cursor && setCursors((c) => [...c, data.next_cursor!])}
                >
                  Older
                </button>
              </div>
            </>
          )}
        </Loaded>
      </Section>
    </>
  );
}
