// Caches of what rarely changes (an integration with its opened secrets, a workspace's journey policy), kept
// briefly and dropped the moment Postgres says the row changed: triggers NOTIFY 'leadrelay_config' with
// "<table> <workspace> <id>" at commit (migration 1700000000040), one LISTEN connection per process hears it.
// While that connection is down nothing is cached: a change could go unheard.
import pg from 'pg';
import type { Logger } from 'pino';

export interface ConfigChange {
  table: string;
  workspaceId: string;
  id: string;
}

const CHANNEL = 'leadrelay_config';

/** One LISTEN connection (outside any pool), reconnecting with a back-off; tells every cache what changed. */
export class ConfigListener {
  private client: pg.Client | undefined;
  private connected = false;
  private stopped = false;
  private retryMs = 100;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(change: ConfigChange | 'all') => void>();

  constructor(
    private readonly connection: pg.ClientConfig,
    private readonly logger?: Logger,
  ) {}

  /** The pool's own connection settings, so the listener reaches the same database. */
  static forPool(pool: pg.Pool, logger?: Logger): ConfigListener {
    const { connectionString, host, port, user, password, database, ssl } = pool.options;
    return new ConfigListener({ connectionString, host, port, user, password, database, ssl }, logger);
  }

  /** Listening now: only then may caches keep what they read. */
  get live(): boolean {
    return this.connected;
  }

  onChange(listener: (change: ConfigChange | 'all') => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.connected = false;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client(this.connection);
    this.client = client;
    const lost = () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.drop();
      client.end().catch(() => undefined);
      if (!this.stopped) this.timer = setTimeout(() => void this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 5000);
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (message) => {
      if (message.channel !== CHANNEL) return;
      const [table = '', workspaceId = '', id = ''] = (message.payload ?? '').split(' ');
      this.emit({ table, workspaceId, id });
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      if (this.client !== client) return;
      this.connected = true;
      this.retryMs = 100;
      // Whatever changed while nobody listened is unknown: start from nothing.
      this.emit('all');
    } catch (error) {
      this.logger?.warn({ err: error }, 'config listener could not connect; retrying');
      lost();
    }
  }

  private drop(): void {
    if (this.connected)
      this.logger?.warn('config listener lost its connection; caches are off until it is back');
    this.connected = false;
    this.emit('all');
  }

  private emit(change: ConfigChange | 'all'): void {
    for (const listener of this.listeners) listener(change);
  }
}

interface Entry<V> {
  value: V;
  at: number;
}

/**
 * Values by key, each kept for at most `ttlMs` and dropped when a change `affects` it. Concurrent reads of a
 * missing key share one load; a load that a change overtook answers its caller but is not kept.
 */
export class NotifiedCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  private readonly loading = new Map<K, Promise<V>>();
  private generation = 0;

  constructor(
    private readonly listener: ConfigListener,
    private readonly options: {
      ttlMs: number;
      affects: (key: K, change: ConfigChange) => boolean;
    },
  ) {
    listener.onChange((change) => {
      this.generation += 1;
      if (change === 'all') {
        this.entries.clear();
        this.loading.clear();
        return;
      }
      for (const key of [...this.entries.keys()]) if (options.affects(key, change)) this.entries.delete(key);
      for (const key of [...this.loading.keys()]) if (options.affects(key, change)) this.loading.delete(key);
    });
  }

  async get(key: K, load: () => Promise<V>): Promise<V> {
    const entry = this.entries.get(key);
    if (entry && Date.now() - entry.at < this.options.ttlMs && this.listener.live) return entry.value;
    const inFlight = this.loading.get(key);
    if (inFlight) return inFlight;
    const generation = this.generation;
    const loaded = load().then(
      (value) => {
        if (this.loading.get(key) === loaded) this.loading.delete(key);
        if (generation === this.generation && this.listener.live)
          this.entries.set(key, { value, at: Date.now() });
        return value;
      },
      (error: unknown) => {
        if (this.loading.get(key) === loaded) this.loading.delete(key);
        throw error;
      },
    );
    this.loading.set(key, loaded);
    return loaded;
  }
}
