// The notifications inbox: every email, SMS, Slack and in-app message sent for the workspace, with its delivery state.
import { useState } from 'react';
import { dateTime, label, percent, relative, shortId } from '../format';
import { useNow, useResource } from '../hooks';
import { Link } from '../router';
import { useSession } from '../session';
import type { Notification } from '../types';
import { Badge, Empty, ErrorState, Loaded, PageHeader, Section, DataTable, Tile } from '../ui';

const STATUS_TONE: Record<string, 'good' | 'bad' | 'warn' | 'info' | 'muted'> = {
  delivered: 'good',
  sent: 'good',
  pending: 'info',
  failed: 'bad',
  skipped: 'muted',
};

export function Notifications() {
  const { api, can } = useSession();
  const now = useNow();
  const [status, setStatus] = useState('');
  const [channel, setChannel] = useState('');
  const [open, setOpen] = useState<string>();
  const list = useResource(
    (signal) =>
      api.get<{ notifications: Notification[]; delivery_rate: number | null }>(
        '/notifications',
        { status, channel, limit: 100 },
        signal,
      ),
    [status, channel],
  );
  const [resendError, setResendError] = useState<unknown>();
  // A failed or skipped message goes again through its lead's journey once the cause is fixed.
  const resend = async (notification: Notification) => {
    setResendError(undefined);
    try {
      await api.request(`/notifications/${notification.id}/resend`, { method: 'POST' });
      list.reload();
    } catch (error) {
      setResendError(error);
    }
  };

  return (
    <>
      <PageHeader
        title="Notifications"
        subtitle="Everything sent to staff and prospects, newest first."
        actions={
          <button type="button" className="button" onClick={list.reload}>
            Refresh
          </button>
        }
      />
      <div className="filters" role="group" aria-label="Notification filters">
        <label>
          Status
          <select value={status} onChange={(event) => setStatus(event.target.value)}>
            <option value="">Any</option>
            {['pending', 'sent', 'delivered', 'failed', 'skipped'].map((s) => (
              <option key={s} value={s}>
                {label(s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Channel
          <select value={channel} onChange={(event) => setChannel(event.target.value)}>
            <option value="">Any</option>
            {['email', 'sms', 'slack', 'in_app'].map((c) => (
              <option key={c} value={c}>
                {c === 'sms' ? 'SMS' : label(c)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Loaded resource={list}>
        {(data) => (
          <div className="tiles secondary">
            <Tile
              label="Delivery rate"
              value={data.delivery_rate == null ? '—' : percent(data.delivery_rate * 100)}
              hint="sent or delivered, of those finished"
            />
            <Tile label="Shown" value={data.notifications.length} />
          </div>
        )}
      </Loaded>
      <Section title="Inbox">
        {resendError ? <ErrorState error={resendError} /> : null}
        <Loaded
          resource={list}
          isEmpty={(data) => data.notifications.length === 0}
          empty={
            <Empty title="No notifications.">
              {status || channel
                ? 'None match these filters.'
                : 'Notifications appear as journeys notify staff and prospects.'}
            </Empty>
          }
        >
          {(data) => (
            <DataTable
              label="Notifications"
              testId="notifications"
              rows={data.notifications}
              rowKey={(n) => n.id}
              columns={[
                {
                  header: 'When',
                  cell: (n) => relative(n.created_at, now),
                  cellProps: (n) => ({ title: dateTime(n.created_at) }),
                },
                {
                  header: 'Channel',
                  cell: (n) => (
                    <>
                      {n.channel === 'sms' ? 'SMS' : label(n.channel)}{' '}
                      <span className="muted small">({n.audience})</span>
                    </>
                  ),
                },
                { header: 'To', cell: (n) => n.recipient, cellProps: () => ({ className: 'break' }) },
                {
                  header: 'Message',
                  cell: (n) => (
                    <>
                      <button
                        type="button"
                        className="link-button"
                        aria-expanded={open === n.id}
                        onClick={() => setOpen((current) => (current === n.id ? undefined : n.id))}
                      >
                        {n.subject || label(n.template)}
                      </button>
                      {open === n.id ? (
                        <div className="notification-body">
                          <pre>{n.body ?? '(no body)'}</pre>
                          <div className="muted small">
                            Template {n.template} · priority {n.priority} · {n.attempts} attempt
                            {n.attempts === 1 ? '' : 's'}
                            {n.provider_id ? ` · provider id ${n.provider_id}` : ''}
                            {n.not_before ? ` · waits until ${dateTime(n.not_before)} (quiet hours)` : ''}
                          </div>
                        </div>
                      ) : null}
                    </>
                  ),
                },
                {
                  header: 'Status',
                  cell: (n) => (
                    <>
                      <Badge tone={STATUS_TONE[n.status] ?? 'muted'}>{n.status}</Badge>
                      {n.error ? <div className="muted small">{n.error}</div> : null}
                      {can('update') && n.lead_id && (n.status === 'failed' || n.status === 'skipped') ? (
                        <button type="button" className="button small" onClick={() => void resend(n)}>
                          Resend
                        </button>
                      ) : null}
                    </>
                  ),
                },
                {
                  header: 'Lead',
                  cell: (n) =>
                    n.lead_id ? (
                      <Link to={`/leads/${n.lead_id}`} className="mono">
                        {shortId(n.lead_id)}
                      </Link>
                    ) : (
                      '—'
                    ),
                },
              ]}
            />
          )}
        </Loaded>
      </Section>
    </>
  );
}
