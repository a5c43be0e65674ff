// One property: its tour calendar (free slots and booked tours, day by day in the property's time zone) and its
// tour settings (weekly tour hours, slot length, tours per slot, booking notice).
import { useEffect, useState, type FormEvent } from 'react';
import { ApiError } from '../api';
import { label } from '../format';
import { useResource } from '../hooks';
import { Link } from '../router';
import { useSession } from '../session';
import type { Property, TourCalendar, TourSettings, TourSlots, TourWindow } from '../types';
import { Badge, Empty, ErrorState, errorMessage, Loaded, PageHeader, Section } from '../ui';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
type Day = (typeof DAYS)[number];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** `YYYY-MM-DD` of an instant in a zone. */
function dayKey(at: number, zone: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date(at));
}

function localHour(at: number, zone: string): number {
  return Number(
    new Intl.DateTimeFormat('en-US', { timeZone: zone, hour: 'numeric', hourCycle: 'h23' }).format(
      new Date(at),
    ),
  );
}

const timeIn = (iso: string, zone: string) =>
  new Date(iso).toLocaleTimeString('en-US', { timeZone: zone, hour: 'numeric', minute: '2-digit' });

const dayTitle = (at: number, zone: string) =>
  new Date(at).toLocaleDateString('en-US', {
    timeZone: zone,
    weekday: 'short',
    month: 'short',
    day: 'numeric',
  });

function Calendar({ propertyId, zone }: { propertyId: string; zone: string }) {
  const { api } = useSession();
  const [week, setWeek] = useState(0);
  // Midday today in the property's zone, so adding whole days never skips one across a DST change.
  const now = Date.now();
  const base = now + (12 - localHour(now, zone)) * HOUR + week * 7 * DAY;
  const days = Array.from({ length: 7 }, (_, i) => base + i * DAY);
  const from = new Date(base - DAY).toISOString();
  const to = new Date(base + 7 * DAY).toISOString();
  const slots = useResource(
    (signal) =>
      api.get<TourSlots>(`/properties/${encodeURIComponent(propertyId)}/tour-slots`, { from, to }, signal),
    [propertyId, week],
  );
  const tours = useResource(
    (signal) =>
      api.get<TourCalendar>(`/properties/${encodeURIComponent(propertyId)}/tours`, { from, to }, signal),
    [propertyId, week],
  );
  return (
    <Section
      title="Tour calendar"
      actions={
        <>
          <button
            type="button"
            className="button small"
            disabled={week === 0}
            onClick={() => setWeek((w) => w - 1)}
          >
            Previous week
          </button>
          <button type="button" className="button small" onClick={() => setWeek((w) => w + 1)}>
            Next week
          </button>
        </>
      }
    >
      {slots.error ? <ErrorState error={slots.error} onRetry={slots.reload} /> : null}
      {slots.data?.busy_source ? (
        <p className="muted small" data-testid="busy-source">
          Busy time from {label(slots.data.busy_source)} is left out.
        </p>
      ) : null}
      <Loaded resource={tours}>
        {(calendar) => (
          <ol className="tour-calendar" data-testid="tour-calendar">
            {days.map((at) => {
              const key = dayKey(at, zone);
              const free = (slots.data?.slots ?? []).filter((s) => dayKey(Date.parse(s.start), zone) === key);
              const booked = calendar.tours.filter((t) => dayKey(Date.parse(t.start), zone) === key);
              return (
                <li key={key} className="tour-day" data-day={key}>
                  <h3>{dayTitle(at, zone)}</h3>
                  {free.length === 0 && booked.length === 0 ? <p className="muted small">No tours</p> : null}
                  <ul className="plain">
                    {booked.map((t) => (
                      <li
                        key={t.id}
                        className="tour booked"
                        data-testid="booked-tour"
                        data-lead-id={t.lead_id}
                      >
                        <time dateTime={t.start}>{timeIn(t.start, zone)}</time>{' '}
                        <Link to={`/leads/${t.lead_id}`}>{t.lead_name ?? 'A lead'}</Link>{' '}
                        {t.status === 'held' ? <Badge tone="muted">held</Badge> : null}
                      </li>
                    ))}
                    {free.map((s) => (
                      <li key={s.start} className="tour free" data-testid="free-slot" data-start={s.start}>
                        <time dateTime={s.start}>{timeIn(s.start, zone)}</time>{' '}
                        <span className="muted small">{s.available} free</span>
                      </li>
                    ))}
                  </ul>
                </li>
              );
            })}
          </ol>
        )}
      </Loaded>
    </Section>
  );
}

type Hours = Record<Day, TourWindow[]>;

function SettingsForm({ settings, onSaved }: { settings: TourSettings; onSaved: () => void }) {
  const { api, can } = useSession();
  const initial = (): Hours =>
    Object.fromEntries(DAYS.map((d) => [d, settings.tour_hours?.[d] ?? []])) as Hours;
  const [hours, setHours] = useState<Hours>(initial);
  const [slot, setSlot] = useState(String(settings.tour_slot_minutes));
  const [capacity, setCapacity] = useState(String(settings.tour_capacity));
  const [notice, setNotice] = useState(String(settings.tour_notice_minutes));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState(false);
  useEffect(() => setHours(initial()), [settings]);

  const setWindow = (day: Day, i: number, patch: Partial<TourWindow>) =>
    setHours((h) => ({ ...h, [day]: h[day].map((w, j) => (j === i ? { ...w, ...patch } : w)) }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setErrors({});
    setError(undefined);
    setSaved(false);
    const offered = DAYS.filter((d) => hours[d].length > 0);
    try {
      await api.request(`/properties/${encodeURIComponent(settings.property_id)}/tour-settings`, {
        method: 'PATCH',
        body: {
          tour_hours: offered.length > 0 ? Object.fromEntries(offered.map((d) => [d, hours[d]])) : null,
          tour_slot_minutes: Number(slot),
          tour_capacity: Number(capacity),
          tour_notice_minutes: Number(notice),
        },
      });
      setSaved(true);
      onSaved();
    } catch (caught) {
      if (caught instanceof ApiError && caught.fields.length > 0) {
        setErrors(Object.fromEntries(caught.fields.map((f) => [f.field, f.message])));
        setError('The server refused some fields.');
      } else setError(errorMessage(caught));
    }
  };

  return (
    <form className="setup-form" onSubmit={(e) => void submit(e)} aria-label="Tour settings">
      <fieldset className="field-group">
        <legend>Tour hours ({settings.timezone})</legend>
        {DAYS.map((day) => (
          <div key={day} className="inline-form" data-day={day}>
            <strong className="day-name">{label(day)}</strong>
            {hours[day].length === 0 ? <span className="muted small">no tours</span> : null}
            {hours[day].map((w, i) => (
              <span key={i} className="inline-form">
                <label>
                  <span className="visually-hidden">
                    {label(day)} window {i + 1} from
                  </span>
                  <input
                    type="time"
                    value={w.start}
                    onChange={(e) => setWindow(day, i, { start: e.target.value })}
                  />
                </label>
                –
                <label>
                  <span className="visually-hidden">
                    {label(day)} window {i + 1} to
                  </span>
                  <input
                    type="time"
                    value={w.end}
                    onChange={(e) => setWindow(day, i, { end: e.target.value })}
                  />
                </label>
                <button
                  type="button"
                  className="button small ghost"
                  onClick={() => setHours((h) => ({ ...h, [day]: h[day].filter((_, j) => j !== i) }))}
                >
                  Remove
                  <span className="visually-hidden">
                    {' '}
                    {label(day)} window {i + 1}
                  </span>
                </button>
              </span>
            ))}
            <button
              type="button"
              className="button small"
              onClick={() =>
                setHours((h) => ({ ...h, [day]: [...h[day], { start: '09:00', end: '17:00' }] }))
              }
            >
              Add hours<span className="visually-hidden"> on {label(day)}</span>
            </button>
            {errors[`tour_hours.${day}`] ? (
              <p className="field-error">{errors[`tour_hours.${day}`]}</p>
            ) : null}
          </div>
        ))}
      </fieldset>
      <div className="inline-form">
        <div className="field">
          <label htmlFor="slot-minutes">Slot length (minutes)</label>
          <input
            id="slot-minutes"
            type="number"
            min={10}
            max={480}
            value={slot}
            onChange={(e) => setSlot(e.target.value)}
          />
          {errors.tour_slot_minutes ? <p className="field-error">{errors.tour_slot_minutes}</p> : null}
        </div>
        <div className="field">
          <label htmlFor="capacity">Tours per slot</label>
          <input
            id="capacity"
            type="number"
            min={1}
            max={100}
            value={capacity}
            onChange={(e) => setCapacity(e.target.value)}
          />
          {errors.tour_capacity ? <p className="field-error">{errors.tour_capacity}</p> : null}
        </div>
        <div className="field">
          <label htmlFor="notice">Booking notice (minutes)</label>
          <input
            id="notice"
            type="number"
            min={0}
            value={notice}
            onChange={(e) => setNotice(e.target.value)}
          />
        </div>
      </div>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      {saved ? (
        <p className="form-success" role="status" data-testid="tour-settings-saved">
          Tour settings saved.
        </p>
      ) : null}
      {can('update') ? (
        <div className="form-actions">
          <button type="submit" className="button primary">
            Save tour settings
          </button>
        </div>
      ) : null}
    </form>
  );
}

export function PropertyDetail({ id }: { id: string }) {
  const { api } = useSession();
  const property = useResource(
    (signal) => api.get<Property>(`/properties/${encodeURIComponent(id)}`, {}, signal),
    [id],
  );
  const settings = useResource(
    (signal) => api.get<TourSettings>(`/properties/${encodeURIComponent(id)}/tour-settings`, {}, signal),
    [id],
  );
  const [generation, setGeneration] = useState(0);
  return (
    <>
      <PageHeader
        title={property.data?.name ?? 'Property'}
        subtitle={
          property.data ? (
            <>
              {label(property.data.vertical)} · {property.data.timezone} ·{' '}
              <Link to="/properties">All properties</Link>
            </>
          ) : undefined
        }
      />
      {property.error ? <ErrorState error={property.error} onRetry={property.reload} /> : null}
      <Loaded resource={settings}>
        {(s) => (
          <>
            {s.tour_hours ? (
              <Calendar key={generation} propertyId={s.property_id} zone={s.timezone} />
            ) : (
              <Section title="Tour calendar">
                <Empty title="No tour hours yet.">Set them below and leads can book tours themselves.</Empty>
              </Section>
            )}
            <Section title="Tour settings">
              <SettingsForm
                settings={s}
                onSaved={() => {
                  settings.reload();
                  setGeneration((g) => g + 1);
                }}
              />
            </Section>
          </>
        )}
      </Loaded>
    </>
  );
}
