// Seed 004 sections 4.1 and 4.4: conversion tiles over a date range, and the live feed.
import { useState } from 'react';
import { FeedList } from '../FeedList';
import { count, daysAgo, duration, money, percent } from '../format';
import { useResource, useThrottled } from '../hooks';
import { Link } from '../router';
import { useFeed, useSession } from '../session';
import { Empty, Loaded, PageHeader, Section, Tile } from '../ui';
import type { ConversionAnalytics, SpeedToLead, WorkspaceActivity } from '../types';
import { ExportButtons } from '../ExportButtons';
import { RangePicker } from '../RangePicker';

export function Overview() {
  const { api, workspaceId, events, feedState } = useSession();
  const [range, setRange] = useState({ from: daysAgo(29), to: daysAgo(0) });
  const query = { from_date: range.from, to_date: range.to };
  const analytics = useResource(
    (signal) => api.get<ConversionAnalytics>('/conversions/analytics', query, signal),
    [range.from, range.to],
  );
  const activity = useResource(
    (signal) =>
      api.get<WorkspaceActivity>(
        `/workspaces/${encodeURIComponent(workspaceId)}/activity`,
        { ...query, limit: 1 },
        signal,
      ),
    [range.from, range.to],
  );
  const speed = useResource(
    (signal) => api.get<SpeedToLead>('/analytics/speed-to-lead', query, signal),
    [range.from, range.to],
  );
  // New conversions move the tiles; refresh at most twice a minute (the API has an hourly request budget).
  const refresh = useThrottled(() => {
    analytics.reload();
    activity.reload();
  }, 30_000);
  useFeed((event) => {
    if (event.type === 'conversion_logged' || !event.old_status) refresh();
  });

  return (
    <>
      <PageHeader
        title="Overview"
        subtitle="Conversions and what is happening right now."
        actions={
          <>
            <RangePicker value={range} onChange={setRange} />
            <ExportButtons path="/referral-fees" name="referral-fees" what="referral fees" />
          </>
        }
      />
      <Section title="Conversion metrics">
        <Loaded resource={analytics}>
          {(data) => (
            <div className="tiles" data-testid="conversion-tiles">
              <Tile label="Total conversions" value={count(data.summary.total_conversions)} />
              <Tile
                label="Conversion rate"
                value={percent(data.summary.conversion_rate)}
                hint={`${count(data.summary.converted_contacts)} of ${count(data.summary.contacts_received)} leads`}
              />
              <Tile label="Average value" value={money(data.summary.average_value)} />
              <Tile label="Total value" value={money(data.summary.total_value)} />
            </div>
          )}
        </Loaded>
        <div className="tiles secondary">
          <Loaded resource={activity} loadingLabel="Loading activity…">
            {(data) => (
              <>
                <Tile label="Leads received" value={count(data.total_contacts_received)} />
                <Tile label="Leads sent on" value={count(data.total_contacts_sent)} />
              </>
            )}
          </Loaded>
          <Loaded resource={speed} loadingLabel="Loading speed to lead…">
            {(data) => (
              <Tile
                label="Speed to lead (median)"
                value={duration(data.median_seconds)}
                hint={`${count(data.not_contacted)} not contacted yet`}
              />
            )}
          </Loaded>
        </div>
      </Section>
      <Section
        title="Live feed"
        actions={
          <span className="muted">{feedState === 'live' ? 'Updates as it happens' : 'Reconnecting…'}</span>
        }
      >
        {events.length === 0 ? (
          <Empty title="Nothing has happened yet.">
            New leads, status changes and conversions appear here the moment they are recorded.{' '}
            <Link to="/leads">See all leads</Link>.
          </Empty>
        ) : (
          <FeedList events={events} />
        )}
      </Section>
    </>
  );
}
