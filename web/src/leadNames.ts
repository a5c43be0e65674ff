// Names for the leads the live feed mentions: feed frames carry lead ids only (no contact details travel in the
// stream), so the app asks the API for the names it does not know yet, many leads per request
// (`GET /leads?ids=…`), and remembers them for the session. A name is never fetched twice.
import { useEffect, useState } from 'react';
import type { Api } from './api';
import type { Lead } from './types';

/** Leads per lookup (the API's page limit). */
const BATCH = 200;

export interface LeadNameBook {
  /** The lead's display name, or undefined while unknown (or when the lead has none). */
  name(leadId: string): string | undefined;
  /** Asks for the names of these leads; answers when those not known yet have been looked up. */
  want(leadIds: string[]): Promise<void>;
  /** Calls `listener` whenever new names arrive; answers the unsubscribe. */
  subscribe(listener: () => void): () => void;
}

export function displayName(
  lead: Pick<Lead, 'first_name' | 'last_name' | 'email' | 'phone'>,
): string | undefined {
  const name = [lead.first_name, lead.last_name].filter(Boolean).join(' ').trim();
  return name || lead.email || lead.phone || undefined;
}

export function createLeadNameBook(api: Api): LeadNameBook {
  const names = new Map<string, string | null>();
  const asked = new Set<string>();
  const listeners = new Set<() => void>();
  return {
    name: (leadId) => names.get(leadId) ?? undefined,
    async want(leadIds) {
      const unknown = [...new Set(leadIds)].filter((id) => !asked.has(id));
      if (unknown.length === 0) return;
      for (const id of unknown) asked.add(id);
      for (let i = 0; i < unknown.length; i += BATCH) {
        const ids = unknown.slice(i, i + BATCH);
        try {
          const page = await api.get<{ leads: Lead[] }>('/leads', { ids, limit: ids.length });
          for (const id of ids) names.set(id, null);
          for (const lead of page.leads) names.set(lead.id, displayName(lead) ?? null);
        } catch {
          // Asked again the next time the feed mentions them.
          for (const id of ids) asked.delete(id);
        }
      }
      for (const listener of listeners) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** The names of these leads, looked up (in one request) when the list brings ids the book does not know. */
export function useLeadNames(book: LeadNameBook, leadIds: string[]): (leadId: string) => string | undefined {
  const [, setVersion] = useState(0);
  useEffect(() => book.subscribe(() => setVersion((n) => n + 1)), [book]);
  const key = leadIds.join(',');
  useEffect(() => {
    void book.want(leadIds);
    // The ids' joined text is the dependency: a new array with the same ids asks nothing.
  }, [book, key]);
  return (leadId) => book.name(leadId);
}
