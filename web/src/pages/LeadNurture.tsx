// A lead's nurture and tour: the sequences it is enrolled in (each step's message, opened and clicked, and a stop
// button) and its self-scheduled tour (book a free slot of its property, or cancel).
import { useState } from 'react';
import { ApiError } from '../api';
import { dateTime, label, relative } from '../format';
import { useNow, useResource } from '../hooks';
import { Link } from '../router';
import { useSession } from '../session';
import type { Enrolment, Lead, Tour, TourSlot, TourSlots } from '../types';
import { Badge, Empty, ErrorState, errorMessage, Loaded, Section, DataTable } from '../ui';

const STATE_TONE = { active: 'info', completed: 'good', exited: 'muted', stopped: 'warn' } as const;

export function LeadSequences({ lead }: { lead: Lead }) {
  const { api, can } = useSession();
  const now = useNow();
  const enrolments = useResource(
    (signal) => api.get<{ enrolments: Enrolment[] }>(`/leads/${lead.id}/sequences`, {}, signal),
    [lead.id, lead.status, lead.updated_at],
  );
  const [error, setError] = useState<unknown>();
  const stop = async (enrolment: Enrolment) => {
    setError(undefined);
    try {
      await api.request(`/leads/${lead.id}/sequences/${enrolment.id}/stop`, { method: 'POST' });
      enrolments.reload();
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <Section title="Sequences">
      {error ? <ErrorState error={error} /> : null}
      <Loaded
        resource={enrolments}
        isEmpty={(d) => d.enrolments.length === 0}
        empty={<Empty title="Not in any sequence.">Sequences enrol leads when their trigger happens.</Empty>}
      >
        {(data) => (
          <ul className="plain enrolments" data-testid="enrolments">
            {data.enrolments.map((e) => (
              <li key={e.id} data-enrolment-id={e.id} data-state={e.state} className="card">
                <div className="card-header">
                  <h3>
                    <Link to={`/sequences/${e.sequence_id}`}>{e.sequence_name}</Link>{' '}
                    <Badge tone={STATE_TONE[e.state]}>{e.state}</Badge>
                  </h3>
                  {can('update') && e.state === 'active' ? (
                    <button type="button" className="button small" onClick={() => void stop(e)}>
                      Stop<span className="visually-hidden"> {e.sequence_name}</span>
                    </button>
                  ) : null}
                </div>
                <p className="muted small">
                  {label(e.trigger)} · step {Math.min(e.step + 1, e.steps_total)} of {e.steps_total}
                  {e.next_step_at ? ` · next ${relative(e.next_step_at, now)}` : ''}
                  {e.exit_reason ? ` · ${e.exit_reason}` : ''}
                  {e.replied_at ? ` · replied ${relative(e.replied_at, now)}` : ''}
                </p>
                {e.messages.length > 0 ? (
                  <DataTable
                    label={`Messages of ${e.sequence_name}`}
                    testId="enrolment-messages"
                    rows={e.messages}
                    rowKey={(m) => m.delivery_id}
                    rowProps={(m) => ({ 'data-step': m.step })}
                    columns={[
                      { header: 'Step', rowHeader: true, cell: (m) => m.step + 1 },
                      {
                        header: 'Message',
                        cell: (m) => (
                          <>
                            {m.channel === 'sms' ? 'SMS' : 'Email'}: {m.subject || label(m.template)}
                          </>
                        ),
                      },
                      {
                        header: 'Status',
                        cell: (m) => (
                          <>
                            {m.status}
                            {m.status === 'pending' && m.not_before ? (
                              <span className="muted small">
                                {' '}
                                (quiet hours until {dateTime(m.not_before)})
                              </span>
                            ) : null}
                          </>
                        ),
                      },
                      {
                        header: 'Opened',
                        cell: (m) => (m.opened_at ? dateTime(m.opened_at) : '—'),
                        cellProps: () => ({ 'data-testid': 'opened' }),
                      },
                      {
                        header: 'Clicked',
                        cell: (m) => (m.clicked_at ? dateTime(m.clicked_at) : '—'),
                        cellProps: () => ({ 'data-testid': 'clicked' }),
                      },
                    ]}
                  />
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </Loaded>
    </Section>
  );
}

const slotText = (slot: TourSlot) =>
  `${new Date(slot.start).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' })} (${slot.available} free)`;

export function LeadTour({ lead, onBooked }: { lead: Lead; onBooked: () => void }) {
  const { api, can } = useSession();
  const propertyId = lead.property_id;
  const tour = useResource(
    (signal) => api.get<{ tour: Tour | null }>(`/leads/${lead.id}/tour`, {}, signal),
    [lead.id, lead.status],
  );
  const slots = useResource(
    (signal) =>
      propertyId
        ? api.get<TourSlots>(`/properties/${encodeURIComponent(propertyId)}/tour-slots`, {}, signal)
        : Promise.resolve(undefined),
    [propertyId, lead.status],
  );
  const [start, setStart] = useState('');
  const [error, setError] = useState<string>();
  const [offered, setOffered] = useState<TourSlot[]>([]);
  const [busy, setBusy] = useState(false);

  const book = async (at: string) => {
    setBusy(true);
    setError(undefined);
    setOffered([]);
    try {
      await api.request(`/leads/${lead.id}/tour`, { method: 'POST', body: { start: at } });
      tour.reload();
      slots.reload();
      onBooked();
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === 'slot_taken') {
        setError('That slot was just taken. The next free ones:');
        setOffered((caught.details.next as TourSlot[] | undefined) ?? []);
        slots.reload();
      } else setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };
  const cancel = async () => {
    setError(undefined);
    try {
      await api.request(`/leads/${lead.id}/tour`, { method: 'DELETE' });
      tour.reload();
      slots.reload();
      onBooked();
    } catch (caught) {
      setError(errorMessage(caught));
    }
  };

  if (!propertyId) {
    return (
      <Section title="Tour">
        <Empty title="This lead has no property: tours are booked at a property." />
      </Section>
    );
  }
  const free = slots.data?.slots ?? [];
  const booked = tour.data?.tour;
  return (
    <Section title="Tour">
      {booked ? (
        <p data-testid="booked-tour-of-lead">
          Tour booked for <strong>{dateTime(booked.start)}</strong>.{' '}
          {can('update') ? (
            <button type="button" className="button small" onClick={() => void cancel()}>
              Cancel tour
            </button>
          ) : null}
        </p>
      ) : null}
      {slots.error ? <ErrorState error={slots.error} onRetry={slots.reload} /> : null}
      {can('update') && slots.data ? (
        slots.data.self_scheduling ? (
          <form
            className="inline-form"
            aria-label="Book a tour"
            onSubmit={(e) => {
              e.preventDefault();
              if (start) void book(start);
            }}
          >
            <div className="field grow">
              <label htmlFor="tour-slot">{booked ? 'Move the tour to' : 'Free slot'}</label>
              <select id="tour-slot" value={start} onChange={(e) => setStart(e.target.value)}>
                <option value="">
                  {free.length ? 'Choose a slot…' : 'No free slot in the next two weeks'}
                </option>
                {free.map((s) => (
                  <option key={s.start} value={s.start}>
                    {slotText(s)}
                  </option>
                ))}
              </select>
            </div>
            <button type="submit" className="button primary" disabled={!start || busy}>
              {booked ? 'Reschedule' : 'Book tour'}
            </button>
          </form>
        ) : (
          <p className="muted">
            This property has no tour hours:{' '}
            <Link to={`/properties/${encodeURIComponent(propertyId)}`}>set them</Link>.
          </p>
        )
      ) : null}
      {error ? (
        <div className="form-error" role="alert" data-testid="tour-error">
          {error}
          {offered.length > 0 ? (
            <ul className="plain">
              {offered.map((s) => (
                <li key={s.start}>
                  <button type="button" className="link-button" onClick={() => void book(s.start)}>
                    {slotText(s)}
                  </button>
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </Section>
  );
}
