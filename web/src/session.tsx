// The logged-in session: the API key (kept in this tab's sessionStorage only), the workspace and permissions the
// live feed's `ready` event names, the feed itself, and the dashboard's runtime settings.
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from 'react';
import { createApi, type Api, type RateLimitState } from './api';
import { LiveFeed, type FeedEvent, type FeedReady, type FeedState } from './feed';
import { createLeadNameBook, type LeadNameBook } from './leadNames';

const STORAGE_KEY = 'leadrelay.apiKey';
const KEPT_EVENTS = 100;

export interface AppConfig {
  temporal_ui_url: string;
  temporal_namespace: string;
}

export interface Session {
  api: Api;
  workspaceId: string;
  permissions: string[];
  /** The label of the API key signed in with: the actor its changes are recorded under. */
  keyLabel: string;
  /** `admin` implies every permission, as on the server. */
  can(permission: 'read' | 'update' | 'convert' | 'admin'): boolean;
  feedState: FeedState;
  /** The latest feed events, newest first. */
  events: FeedEvent[];
  /** Called for every feed event as it arrives; returns the unsubscribe. */
  subscribe(listener: (event: FeedEvent) => void): () => void;
  rateLimit?: RateLimitState;
  /** Names of the leads the feed mentions, looked up through the API and kept for the session. */
  leadNames: LeadNameBook;
  config: AppConfig;
  logout(): void;
}

const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a session');
  return session;
}

/** Calls `listener` for each feed event while the component is mounted. */
export function useFeed(listener: (event: FeedEvent) => void): void {
  const { subscribe } = useSession();
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => subscribe((event) => latest.current(event)), [subscribe]);
}

type Phase =
  | { kind: 'login'; error?: string }
  | { kind: 'connecting'; key: string; retrying: boolean }
  | { kind: 'ready'; key: string; ready: FeedReady };

const DEFAULT_CONFIG: AppConfig = { temporal_ui_url: 'http://localhost:8233', temporal_namespace: 'default' };

export function SessionProvider({
  children,
  login,
}: {
  children: ReactNode;
  login: (props: {
    onSubmit: (key: string) => void;
    error?: string;
    connecting: boolean;
    retrying: boolean;
    onCancel: () => void;
  }) => ReactNode;
}) {
  const [phase, setPhase] = useState<Phase>(() => {
    const key = window.sessionStorage.getItem(STORAGE_KEY);
    return key ? { kind: 'connecting', key, retrying: false } : { kind: 'login' };
  });
  const [feedState, setFeedState] = useState<FeedState>('connecting');
  const [events, setEvents] = useState<FeedEvent[]>([]);
  const [rateLimit, setRateLimit] = useState<RateLimitState>();
  const [config, setConfig] = useState<AppConfig>(DEFAULT_CONFIG);
  const listeners = useRef(new Set<(event: FeedEvent) => void>());
  const key = phase.kind === 'login' ? undefined : phase.key;

  useEffect(() => {
    fetch('/app/config.json')
      .then((response) => (response.ok ? (response.json() as Promise<AppConfig>) : DEFAULT_CONFIG))
      .then(setConfig, () => undefined);
  }, []);

  const logout = useCallback((error?: string) => {
    window.sessionStorage.removeItem(STORAGE_KEY);
    setEvents([]);
    setPhase({ kind: 'login', error });
  }, []);

  // One live connection per key: it proves the key at login and then carries the feed.
  useEffect(() => {
    if (!key) return;
    const feed = new LiveFeed(key, {
      onReady: (ready) => setPhase({ kind: 'ready', key, ready }),
      onEvent: (event) => {
        setEvents((previous) =>
          previous.some((e) => e.id === event.id) ? previous : [event, ...previous].slice(0, KEPT_EVENTS),
        );
        for (const listener of listeners.current) listener(event);
      },
      onState: (state) => {
        setFeedState(state);
        if (state === 'reconnecting')
          setPhase((current) => (current.kind === 'connecting' ? { ...current, retrying: true } : current));
      },
      onRejected: (status, message) =>
        logout(
          status === 403 ? `This API key cannot read this workspace: ${message}` : `Not accepted: ${message}`,
        ),
    });
    feed.start();
    return () => feed.stop();
  }, [key, logout]);

  const ready = phase.kind === 'ready' ? phase.ready : undefined;
  const subscribe = useCallback((listener: (event: FeedEvent) => void) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);
  const api = useMemo(
    () =>
      key
        ? createApi(key, {
            onUnauthorized: () => logout('The API key stopped working; log in again.'),
            onRateLimit: setRateLimit,
          })
        : undefined,
    [key, logout],
  );

  const leadNames = useMemo(() => (api ? createLeadNameBook(api) : undefined), [api]);

  const session = useMemo<Session | undefined>(
    () =>
      ready && api && leadNames
        ? {
            api,
            workspaceId: ready.workspace_id,
            permissions: ready.permissions,
            keyLabel: ready.key_label,
            can: (permission) =>
              ready.permissions.includes(permission) || ready.permissions.includes('admin'),
            feedState,
            events,
            subscribe,
            rateLimit,
            leadNames,
            config,
            logout: () => logout(),
          }
        : undefined,
    [ready, api, leadNames, feedState, events, subscribe, rateLimit, config, logout],
  );

  if (!session) {
    return (
      <>
        {login({
          onSubmit: (given) => {
            window.sessionStorage.setItem(STORAGE_KEY, given);
            setPhase({ kind: 'connecting', key: given, retrying: false });
          },
          error: phase.kind === 'login' ? phase.error : undefined,
          connecting: phase.kind === 'connecting',
          retrying: phase.kind === 'connecting' && phase.retrying,
          onCancel: () => logout(),
        })}
      </>
    );
  }
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}
