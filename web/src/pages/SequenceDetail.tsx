// One sequence: its steps with open, click and reply rates per step, its enrolments by state, and edit, pause
// and delete.
import { useState } from 'react';
import { count, label, percent } from '../format';
import { useResource } from '../hooks';
import { Link, navigate } from '../router';
import { useSession } from '../session';
import type { Sequence, SequenceAnalytics } from '../types';
import { Badge, ErrorState, Loaded, PageHeader, Section, DataTable, Tile } from '../ui';
import { SequenceForm } from './SequenceForm';
import { stepsText, triggerText } from './Sequences';

const rate = (value: number | null) => (value === null ? '—' : percent(value * 100));

export function SequenceDetail({ id }: { id: string }) {
  const { api, can } = useSession();
  const sequence = useResource(
    (signal) => api.get<Sequence>(`/sequences/${encodeURIComponent(id)}`, {}, signal),
    [id],
  );
  const analytics = useResource(
    (signal) => api.get<SequenceAnalytics>(`/sequences/${encodeURIComponent(id)}/analytics`, {}, signal),
    [id],
  );
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<unknown>();

  const act = async (work: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await work();
    } catch (caught) {
      setError(caught);
    }
  };
  const setActive = (active: boolean) =>
    act(async () => {
      await api.request(`/sequences/${id}`, { method: 'PATCH', body: { is_active: active } });
      sequence.reload();
    });
  const remove = () =>
    act(async () => {
      await api.request(`/sequences/${id}`, { method: 'DELETE' });
      navigate('/sequences');
    });

  if (sequence.data === undefined) {
    return (
      <>
        <PageHeader title="Sequence" />
        <Loaded resource={sequence}>{() => null}</Loaded>
      </>
    );
  }
  const data = sequence.data;
  return (
    <>
      <PageHeader
        title={data.name}
        subtitle={
          <>
            {data.is_active ? <Badge tone="good">active</Badge> : <Badge tone="muted">paused</Badge>} ·{' '}
            {triggerText(data)} · <Link to="/sequences">All sequences</Link>
          </>
        }
        actions={
          can('update') ? (
            <>
              <button type="button" className="button" onClick={() => setEditing((e) => !e)}>
                Edit
              </button>
              <button type="button" className="button" onClick={() => void setActive(!data.is_active)}>
                {data.is_active ? 'Pause' : 'Resume'}
              </button>
              {confirming ? (
                <span className="confirm">
                  Leads in it leave at their next step.{' '}
                  <button type="button" className="button small danger" onClick={() => void remove()}>
                    Yes, delete
                  </button>{' '}
                  <button type="button" className="button small ghost" onClick={() => setConfirming(false)}>
                    Keep it
                  </button>
                </span>
              ) : (
                <button type="button" className="button ghost" onClick={() => setConfirming(true)}>
                  Delete
                </button>
              )}
            </>
          ) : null
        }
      />
      {error ? <ErrorState error={error} /> : null}
      {editing ? (
        <Section title="Edit sequence">
          <SequenceForm
            sequence={data}
            onSaved={() => {
              setEditing(false);
              sequence.reload();
              analytics.reload();
            }}
            onCancel={() => setEditing(false)}
          />
        </Section>
      ) : null}
      <Loaded resource={analytics}>
        {(a) => (
          <>
            <div className="tiles" data-testid="enrolment-tiles">
              <Tile label="In the sequence" value={count(a.enrolments.active)} />
              <Tile label="Completed" value={count(a.enrolments.completed)} />
              <Tile
                label="Left early"
                value={count(a.enrolments.exited)}
                hint="moved on, replied, unsubscribed"
              />
              <Tile label="Stopped by staff" value={count(a.enrolments.stopped)} />
            </div>
            <Section title="Steps">
              <p className="muted">{stepsText(data)}</p>
              <DataTable
                label="Steps and their rates"
                testId="step-stats"
                rows={a.steps}
                rowKey={(s) => s.step}
                rowProps={(s) => ({ 'data-step': s.step })}
                columns={[
                  {
                    header: 'Step',
                    rowHeader: true,
                    cell: (s) => (
                      <>
                        {s.step + 1}. after {s.wait}
                      </>
                    ),
                  },
                  {
                    header: 'Message',
                    cell: (s) => (
                      <>
                        {s.channel === 'sms' ? 'SMS' : 'Email'} · {label(s.template_id)}
                      </>
                    ),
                  },
                  { header: 'Sent', numeric: true, cell: (s) => count(s.sent) },
                  {
                    header: 'Open rate',
                    numeric: true,
                    cell: (s) => rate(s.open_rate),
                    cellProps: () => ({ 'data-testid': 'open-rate' }),
                  },
                  {
                    header: 'Click rate',
                    numeric: true,
                    cell: (s) => rate(s.click_rate),
                    cellProps: () => ({ 'data-testid': 'click-rate' }),
                  },
                  {
                    header: 'Reply rate',
                    numeric: true,
                    cell: (s) => rate(s.reply_rate),
                    cellProps: () => ({ 'data-testid': 'reply-rate' }),
                  },
                ]}
              />
              <p className="muted small">
                Opens and clicks count sent email; replies (texts, new inquiries, calls) count leads the step
                reached.
              </p>
            </Section>
          </>
        )}
      </Loaded>
    </>
  );
}
