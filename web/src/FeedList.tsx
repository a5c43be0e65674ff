// Seed 004 section 4.4: the live feed of status changes and conversions, newest first.
import type { FeedEvent } from './feed';
import { label, money, relative, shortId, statusTone } from './format';
import { useNow } from './hooks';
import { useLeadNames } from './leadNames';
import { Link } from './router';
import { useSession } from './session';

function tone(event: FeedEvent): 'good' | 'bad' | 'warn' | 'info' {
  if (event.type === 'conversion_logged') return 'good';
  if (event.entry_type === 'conflict') return 'bad';
  return statusTone(event.new_status);
}

function describe(event: FeedEvent, name: string | undefined) {
  // Staff know leads by name; the id stands in until the name arrives (or when the lead has none).
  const lead = name ? (
    <Link to={`/leads/${event.lead_id}`} data-testid="feed-lead-name">
      {name}
    </Link>
  ) : (
    <Link to={`/leads/${event.lead_id}`} className="mono">
      Lead {shortId(event.lead_id)}
    </Link>
  );
  if (event.type === 'conversion_logged') {
    return (
      <>
        {lead} converted → <strong>{money(event.conversion_value ?? null, event.currency)}</strong> (
        {label(event.conversion_type)})
      </>
    );
  }
  const by = event.source ? <span className="muted"> · {event.source}</span> : null;
  if (event.entry_type === 'conflict') {
    return (
      <>
        {lead}: partner reported <strong>{label(event.new_status)}</strong> against {label(event.old_status)}{' '}
        — not applied{by}
      </>
    );
  }
  if (!event.old_status) {
    return (
      <>
        New lead {lead}
        {by}
      </>
    );
  }
  return (
    <>
      {lead} {label(event.old_status)} → <strong>{label(event.new_status)}</strong>
      {by}
    </>
  );
}

export function FeedList({ events, limit = 50 }: { events: FeedEvent[]; limit?: number }) {
  const now = useNow(15_000);
  const shown = events.slice(0, limit);
  const nameOf = useLeadNames(
    useSession().leadNames,
    shown.map((event) => event.lead_id),
  );
  return (
    <ol
      className="feed"
      aria-label="Recent status changes and conversions"
      aria-live="polite"
      aria-relevant="additions"
    >
      {shown.map((event) => (
        <li
          key={event.id}
          className={`feed-item tone-${tone(event)}`}
          data-testid="feed-item"
          data-lead-id={event.lead_id}
          data-type={event.type}
          data-status={event.new_status ?? ''}
        >
          <span className="dot" aria-hidden="true" />
          <time dateTime={event.at} title={new Date(event.at).toLocaleString()}>
            {relative(event.at, now)}
          </time>
          <span className="feed-text">{describe(event, nameOf(event.lead_id))}</span>
        </li>
      ))}
    </ol>
  );
}
