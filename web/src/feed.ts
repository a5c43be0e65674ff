// The live feed over fetch streaming (EventSource cannot send the Authorization header): an SSE parser, and a
// connection that resumes with Last-Event-ID after every drop, backing off while the server is away.
import { API_BASE } from './api';

export interface SseMessage {
  id?: string;
  event: string;
  data: string;
  retry?: number;
}

/**
 * Incremental text/event-stream parser (the WHATWG algorithm: fields, comments, multi-line data).
 * `push` takes decoded text in any chunking; `onComment` sees keep-alives.
 */
export function createSseParser(onMessage: (message: SseMessage) => void, onComment?: () => void) {
  let buffer = '';
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  let retry: number | undefined;
  const dispatch = () => {
    if (data.length > 0) onMessage({ id, event: event || 'message', data: data.join('\n'), retry });
    else if (retry !== undefined) onMessage({ id, event: 'retry', data: '', retry });
    data = [];
    event = '';
    retry = undefined;
  };
  const line = (text: string) => {
    if (text === '') return dispatch();
    if (text.startsWith(':')) return onComment?.();
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\0')) id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
  };
  return {
    push(text: string) {
      buffer += text;
      for (;;) {
        const match = /\r\n|\r|\n/.exec(buffer);
        // A lone \r at the end may be half of \r\n: wait for the next chunk.
        if (!match || (match[0] === '\r' && match.index === buffer.length - 1)) break;
        line(buffer.slice(0, match.index));
        buffer = buffer.slice(match.index + match[0].length);
      }
    },
  };
}

export interface FeedEvent {
  id: string;
  type: 'status_changed' | 'conversion_logged';
  lead_id: string;
  at: string;
  recorded_at: string;
  // status_changed
  history_id?: string;
  entry_type?: 'applied' | 'conflict';
  old_status?: string | null;
  new_status?: string;
  source?: string;
  direction?: string;
  journey?: number;
  // conversion_logged
  conversion_id?: string;
  property_id?: string | null;
  conversion_type?: string;
  conversion_value?: number | null;
  currency?: string;
}

export interface FeedReady {
  workspace_id: string;
  permissions: string[];
  /** The label of the API key the session is signed in with. */
  key_label: string;
  resumed: boolean;
}

export type FeedState = 'connecting' | 'live' | 'reconnecting';

export interface FeedHandlers {
  onReady(ready: FeedReady): void;
  onEvent(event: FeedEvent): void;
  onState(state: FeedState): void;
  /** 401/403: the key no longer works (or lacks `read`); the feed stops. */
  onRejected(status: number, message: string): void;
}

const HEARTBEAT_SECONDS = 15;

/** One live connection; `stop` ends it for good. */
export class LiveFeed {
  private abort?: AbortController;
  private stopped = false;
  private lastEventId?: string;
  private retryMs = 2000;
  private failures = 0;
  private watchdog?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly key: string,
    private readonly handlers: FeedHandlers,
    private readonly backlog = 20,
  ) {}

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.watchdog);
    this.abort?.abort();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.handlers.onState(this.failures === 0 && !this.lastEventId ? 'connecting' : 'reconnecting');
      try {
        await this.connect();
      } catch {
        // Network error or a server restart: try again below.
      }
      if (this.stopped) return;
      this.failures += 1;
      // Back off to at most 30 s while the server stays away; the server's `retry` is the first step.
      const delay = Math.min(30_000, this.retryMs * 2 ** Math.min(this.failures - 1, 4));
      this.handlers.onState('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  private async connect(): Promise<void> {
    const abort = new AbortController();
    this.abort = abort;
    const query = new URLSearchParams({ heartbeat: String(HEARTBEAT_SECONDS) });
    if (!this.lastEventId) query.set('backlog', String(this.backlog));
    const response = await fetch(`${API_BASE}/events/stream?${query}`, {
      headers: {
        authorization: `Bearer ${this.key}`,
        accept: 'text/event-stream',
        ...(this.lastEventId ? { 'last-event-id': this.lastEventId } : {}),
      },
      signal: abort.signal,
      cache: 'no-store',
    });
    if (response.status === 401 || response.status === 403) {
      const body = (await response.json().catch(() => undefined)) as
        { error?: { message?: string } } | undefined;
      this.stop();
      this.handlers.onRejected(response.status, body?.error?.message ?? 'the API key was refused');
      return;
    }
    if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);

    // No byte for two heartbeats: the connection is dead even if TCP has not noticed.
    const arm = () => {
      clearTimeout(this.watchdog);
      this.watchdog = setTimeout(() => abort.abort(), (HEARTBEAT_SECONDS * 2 + 5) * 1000);
    };
    arm();
    const parser = createSseParser(
      (message) => {
        if (message.retry !== undefined) this.retryMs = message.retry;
        if (message.event === 'ready') {
          this.failures = 0;
          this.handlers.onState('live');
          this.handlers.onReady(JSON.parse(message.data) as FeedReady);
        } else if (message.event === 'status_changed' || message.event === 'conversion_logged') {
          if (message.id) this.lastEventId = message.id;
          this.handlers.onEvent(JSON.parse(message.data) as FeedEvent);
        }
      },
      () => undefined,
    );
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        arm();
        parser.push(value);
      }
    } finally {
      clearTimeout(this.watchdog);
      reader.releaseLock();
    }
  }
}
