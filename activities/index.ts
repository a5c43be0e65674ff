// The worker's activities, built from injected dependencies so tests swap only the outside world.
import type pg from 'pg';
import * as journey from './db/journey';

export interface ActivityDeps {
  pool: pg.Pool;
}

export function createActivities(deps: ActivityDeps) {
  return {
    loadJourneyContext: (args: { workspaceId: string; leadId: string }) =>
      journey.loadJourneyContext(deps.pool, args),
    recordJourneyChange: (input: journey.RecordJourneyChangeInput) =>
      journey.recordJourneyChange(deps.pool, input),
  };
}
