// The staff dashboard end to end: the api serves the built app under /app and the live feed at
// /api/v1/events/stream; headless Chromium (playwright-core, Debian's /usr/bin/chromium) logs in, sees a lead
// created over the API arrive in the feed, changes its status, previews a rule on the last 30 days before saving
// it, sets up integrations from their generated forms, and is checked for keyboard use and phone width. Every
// page is screenshotted to test-artifacts/screenshots/.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page, type Response as PageResponse } from 'playwright-core';
import { ANALYTICS_CONCURRENCY, ANALYTICS_SLOT_LOCK_CLASS } from '../../data/analytics';
import { startSalesforceSandbox, type SalesforceSandbox } from '../../infra/sandbox/salesforce';
import { createApiApp } from '../../services/api/app';
import { createLogger } from '../../shared/logger';
import { call, registerWorkspace, startHarness, type Harness } from '../support/harness';
import { waitFor, within } from '../support/wait';

const ROOT = join(__dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');
/** The Temporal UI the api links to: TEMPORAL_UI_URL when the run sets one, else its default. */
const TEMPORAL_UI = (process.env.TEMPORAL_UI_URL || 'http://localhost:8233').replace(/\/+$/, '');

let harness: Harness;
let browser: Browser;
let salesforce: SalesforceSandbox;
let workspace: { workspaceId: string; apiKey: string };

const api = (path: string) => `${harness.apiUrl}/api/v1${path}`;
const app = (path = '/') => `${harness.apiUrl}/app${path}`;

beforeAll(async () => {
  // Vite's build API (web/build.mjs), skipped when web/dist is newer than every source.
  await promisify(execFile)(process.execPath, [join(ROOT, 'web', 'build.mjs'), '--if-stale', '--quiet'], {
    cwd: ROOT,
  });
  mkdirSync(SHOTS, { recursive: true });
  [harness, browser, salesforce] = await Promise.all([
    startHarness(),
    chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    }),
    startSalesforceSandbox(),
  ]);
  // UTC on both sides, so the browser's "today" is the workspace's: the timeline's last day holds today's conversion.
  workspace = await registerWorkspace(harness.apiUrl, { workspace_name: 'Dashboard', timezone: 'UTC' });
  const property = await call(api('/properties'), 'POST', workspace.apiKey, {
    property_id: 'oak-grove',
    name: 'Oak Grove',
    timezone: 'America/Chicago',
    vertical: 'multifamily',
  });
  expect(property.status).toBe(201);
});

afterAll(async () => {
  await browser?.close();
  await salesforce?.close();
  await harness?.stop();
});

// ---- live feed endpoint over plain HTTP ----

interface SseEvent {
  id?: string;
  event: string;
  data: any;
}

/** A server-sent-events reader over fetch: every event kept in order, waits resolve on arrival. */
class SseReader {
  readonly events: SseEvent[] = [];
  comments = 0;
  private waiters: (() => void)[] = [];
  private readonly abort = new AbortController();
  private constructor(readonly response: Response) {}

  static async open(url: string, key: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const abort = new AbortController();
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream', ...headers },
      signal: abort.signal,
    });
    const reader = new SseReader(response);
    reader.abort.signal.addEventListener('abort', () => abort.abort());
    if (response.ok && response.body) void reader.read(response.body);
    return reader;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields: Record<string, string> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) {
              this.comments += 1;
              continue;
            }
            const colon = line.indexOf(':');
            fields[line.slice(0, colon)] = line.slice(colon + 1).replace(/^ /, '');
          }
          if (fields.data !== undefined) {
            this.events.push({
              id: fields.id,
              event: fields.event ?? 'message',
              data: JSON.parse(fields.data),
            });
          }
          for (const wake of this.waiters.splice(0)) wake();
        }
      }
    } catch {
      // Closed by the test.
    }
  }

  /** The first event (from `from` on) matching, waiting for it to arrive. */
  next(predicate: (event: SseEvent) => boolean, from = 0): Promise<SseEvent> {
    const arrival = async () => {
      for (;;) {
        const found = this.events.slice(from).find(predicate);
        if (found) return found;
        await new Promise<void>((resolve) => this.waiters.push(resolve));
      }
    };
    return within(`a feed event matching ${predicate.toString()}`, arrival(), {
      seen: () => this.events.slice(from).slice(-5),
    });
  }

  untilComment(): Promise<void> {
    const seen = this.comments;
    const arrival = async () => {
      while (this.comments === seen) await new Promise<void>((resolve) => this.waiters.push(resolve));
    };
    return within('a keep-alive comment on the feed', arrival(), { seen: () => this.events.slice(-3) });
  }

  close(): void {
    this.abort.abort();
  }
}

const changeStatus = (key: string, leadId: string, status: string) =>
  call(api(`/leads/${leadId}/status`), 'PUT', key, { new_status: status, status_reason: 'called back' });

describe('GET /api/v1/events/stream', () => {
  test('streams status changes and conversions as they commit, without contact details', async () => {
    const { apiKey, workspaceId } = await registerWorkspace(harness.apiUrl);
    const stream = await SseReader.open(api('/events/stream'), apiKey);
    try {
      expect(stream.response.status).toBe(200);
      expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const ready = await stream.next((e) => e.event === 'ready');
      expect(ready.data).toMatchObject({
        workspace_id: workspaceId,
        key_label: 'workspace key',
        resumed: false,
      });
      expect(ready.data.permissions).toEqual(expect.arrayContaining(['read']));

      const email = `feed-${Date.now()}@example.com`;
      const lead = await call(api('/leads'), 'POST', apiKey, {
        source: 'website',
        first_name: 'Feed',
        email,
      });
      expect(lead.status).toBe(201);
      const created = await stream.next(
        (e) => e.event === 'status_changed' && e.data.lead_id === lead.body.id,
      );
      expect(created.data).toMatchObject({
        type: 'status_changed',
        old_status: null,
        new_status: 'new',
        entry_type: 'applied',
      });
      expect(created.id).toBe(created.data.id);

      expect((await changeStatus(apiKey, lead.body.id, 'contacted')).status).toBe(200);
      const moved = await stream.next(
        (e) => e.data.lead_id === lead.body.id && e.data.new_status === 'contacted',
      );
      expect(moved.data).toMatchObject({ old_status: 'new', source: 'staff' });

      const conversion = await call(api('/conversions'), 'POST', apiKey, {
        contact_id: lead.body.id,
        conversion_type: 'deposit',
        conversion_value: 500,
      });
      expect(conversion.status).toBe(201);
      const converted = await stream.next((e) => e.event === 'conversion_logged');
      expect(converted.data).toMatchObject({
        lead_id: lead.body.id,
        conversion_id: conversion.body.id,
        conversion_type: 'deposit',
        conversion_value: 500,
      });
      const raw = JSON.stringify(stream.events);
      expect(raw).not.toContain(email);
      expect(raw).not.toContain('Feed');
      // In commit order: each event id sorts after the one before.
      const ids = stream.events.filter((e) => e.id).map((e) => e.id!.split('.').map(BigInt));
      for (let i = 1; i < ids.length; i++) {
        const [a, b] = [ids[i - 1]!, ids[i]!];
        expect(a[0]! < b[0]! || (a[0] === b[0] && a[1]! < b[1]!)).toBe(true);
      }
    } finally {
      stream.close();
    }
  });

  test('resumes after Last-Event-ID with exactly what was missed, and replays a backlog on request', async () => {
    const { apiKey } = await registerWorkspace(harness.apiUrl);
    const first = await SseReader.open(api('/events/stream'), apiKey);
    const lead = await call(api('/leads'), 'POST', apiKey, {
      source: 'website',
      email: `resume-${Date.now()}@example.com`,
    });
    const seen = await first.next((e) => e.data.lead_id === lead.body.id && e.data.new_status === 'new');
    first.close();

    // While nobody listens: two changes.
    expect((await changeStatus(apiKey, lead.body.id, 'contacted')).status).toBe(200);
    expect((await changeStatus(apiKey, lead.body.id, 'qualified')).status).toBe(200);

    const resumed = await SseReader.open(api('/events/stream'), apiKey, { 'Last-Event-ID': seen.id! });
    try {
      expect((await resumed.next((e) => e.event === 'ready')).data.resumed).toBe(true);
      await resumed.next((e) => e.data.new_status === 'qualified');
      const missed = resumed.events.filter((e) => e.event === 'status_changed');
      expect(missed.map((e) => `${e.data.old_status}→${e.data.new_status}`)).toEqual([
        'new→contacted',
        'contacted→qualified',
      ]);
    } finally {
      resumed.close();
    }

    const backlog = await SseReader.open(api('/events/stream?backlog=2&types=status_changed'), apiKey);
    try {
      await backlog.next((e) => e.data.new_status === 'qualified');
      expect(
        backlog.events.filter((e) => e.event === 'status_changed').map((e) => e.data.new_status),
      ).toEqual(['contacted', 'qualified']);
    } finally {
      backlog.close();
    }
  });

  test('sends keep-alive comments at the asked heartbeat', async () => {
    const stream = await SseReader.open(api('/events/stream?heartbeat=1'), workspace.apiKey);
    try {
      await stream.next((e) => e.event === 'ready');
      await stream.untilComment();
      expect(stream.comments).toBeGreaterThan(0);
    } finally {
      stream.close();
    }
  });

  test("carries only the key's own workspace, and refuses bad cursors and keys without read", async () => {
    const other = await registerWorkspace(harness.apiUrl);
    const mine = await registerWorkspace(harness.apiUrl);
    const stream = await SseReader.open(api('/events/stream'), mine.apiKey);
    try {
      await stream.next((e) => e.event === 'ready');
      const theirs = await call(api('/leads'), 'POST', other.apiKey, {
        source: 'website',
        email: `other-${Date.now()}@example.com`,
      });
      const own = await call(api('/leads'), 'POST', mine.apiKey, {
        source: 'website',
        email: `own-${Date.now()}@example.com`,
      });
      await stream.next((e) => e.data.lead_id === own.body.id);
      // Both leads were created before ours reached the stream; the other workspace's never did.
      expect(stream.events.some((e) => e.data.lead_id === theirs.body.id)).toBe(false);
    } finally {
      stream.close();
    }

    const badCursor = await call(api('/events/stream'), 'GET', mine.apiKey, undefined, {
      'Last-Event-ID': 'yesterday',
    });
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.error.details.fields[0].field).toBe('Last-Event-ID');
    const writeOnly = await registerWorkspace(harness.apiUrl, { permissions: ['update'] });
    const refused = await call(api('/events/stream'), 'GET', writeOnly.apiKey);
    expect(refused.status).toBe(403);
  });
});

// ---- serving the app ----

describe('/app', () => {
  test('serves the built page with a CSP, falls back to it for app routes and names the Temporal UI', async () => {
    const page = await fetch(app('/'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toMatch(/<script type="module" crossorigin src="\/app\/assets\/[^"]+\.js">/);

    const deep = await fetch(app('/leads/6b0a1c1e-0000-4000-8000-000000000000'));
    expect(deep.status).toBe(200);
    expect(await deep.text()).toBe(html);
    expect((await fetch(app('/assets/missing.js'))).status).toBe(404);
    const asset = /src="(\/app\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const script = await fetch(`${harness.apiUrl}${asset}`);
    expect(script.status).toBe(200);
    expect(script.headers.get('cache-control')).toContain('immutable');

    const config = await call(app('/config.json'), 'GET', undefined);
    expect(config.body).toEqual({
      temporal_ui_url: TEMPORAL_UI,
      temporal_namespace: 'default',
      api_base: '/api/v1',
    });
  });

  test('answers 503 with how to build it when web/dist is missing', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'leadrelay-no-web-'));
    const unbuilt = createApiApp({
      pool: harness.pool,
      temporal: harness.client,
      journeys: harness.journeys,
      logger: createLogger('test', 'silent'),
      webDist: empty,
    });
    const server: Server = await new Promise((resolve) => {
      const s = unbuilt.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const { port } = server.address() as AddressInfo;
      const answer = await fetch(`http://127.0.0.1:${port}/app/leads`);
      expect(answer.status).toBe(503);
      expect(await answer.text()).toContain('npm run build:web');
    } finally {
      await new Promise((resolve) => server.close(resolve));
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

// ---- the dashboard in Chromium ----

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Waits for the page's heading (pages focus it once they render) and no loading indicator left. */
async function settled(page: Page, title: string | RegExp): Promise<void> {
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
  await page.locator('.state-loading').first().waitFor({ state: 'detached' });
}

/**
 * How long a page waits for an element (Playwright's default is 30 s): well below jest's timeout, so a
 * missing element fails with Playwright's message naming the locator, with room for a busy machine.
 */
const PAGE_WAIT_MS = 60_000;

async function logIn(page: Page, key: string): Promise<void> {
  await page.goto(app('/'));
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('[data-testid="feed-state"][data-state="live"]').waitFor();
}

describe('the dashboard in a browser', () => {
  let page: Page;
  let leadId: string;

  beforeAll(async () => {
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' });
    page.setDefaultTimeout(PAGE_WAIT_MS);
  });
  afterAll(async () => {
    await page?.close();
  });

  test('refuses a wrong key and logs in with the workspace key', async () => {
    await page.goto(app('/'));
    await page.getByRole('heading', { name: 'leadrelay' }).waitFor();
    await shot(page, '01-login');
    await page.getByLabel('API key').fill('lr_not-a-real-key-0000000000');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('invalid API key');

    await logIn(page, workspace.apiKey);
    await settled(page, 'Overview');
    await expect(page.locator('.workspace').textContent()).resolves.toBe(workspace.workspaceId);
    // The key signed in with, by its label: the actor its changes are recorded under.
    await expect(page.locator('.key-label').textContent()).resolves.toBe('workspace key');
  });

  test('shows a lead created over the API in the live feed as it happens', async () => {
    const created = await call(api('/leads'), 'POST', workspace.apiKey, {
      source: 'website',
      first_name: 'Grace',
      last_name: 'Hopper',
      email: `grace-${Date.now()}@example.com`,
      custom_data: {
        qualification_score: 85,
        products: ['two_bedroom', 'parking'],
        move_in_date: '2030-03-15',
      },
    });
    expect(created.status).toBe(201);
    leadId = created.body.id;
    const item = page.locator(`[data-testid="feed-item"][data-lead-id="${leadId}"]`);
    await item.waitFor();
    await expect(item.textContent()).resolves.toContain('New lead');
    // Staff see the person, looked up through the API (the frame itself carries no name).
    await item.getByTestId('feed-lead-name').getByText('Grace Hopper').waitFor();
    // The app's requests were counted in its own budget, not in the one integrations rely on.
    const budgets = await harness.pool.query<{ bucket: string; requests: number }>(
      'SELECT bucket, sum(requests)::int AS requests FROM api_rate_windows WHERE workspace_id = $1 GROUP BY bucket',
      [workspace.workspaceId],
    );
    expect(budgets.rows.find((row) => row.bucket === 'dashboard')?.requests).toBeGreaterThan(0);
    await shot(page, '02-overview-feed');
  });

  test("changes the lead's status from its page and sees the journey take it", async () => {
    await page.locator(`[data-testid="feed-item"][data-lead-id="${leadId}"] a`).click();
    await settled(page, 'Grace Hopper');
    await expect(page.getByTestId('temporal-link').getAttribute('href')).resolves.toBe(
      `${TEMPORAL_UI}/namespaces/default/workflows/${encodeURIComponent(`lead/${workspace.workspaceId}/${leadId}`)}`,
    );
    // Seed 004 4.6: the score as a bar, the list as chips.
    await page.getByRole('meter', { name: /Qualification score: 85 of 100/ }).waitFor();
    await page.getByRole('list', { name: 'Products' }).getByText('Two bedroom').waitFor();

    await page.getByLabel('New status').selectOption('contacted');
    await page.getByLabel('Reason (optional)').fill('Left a voicemail');
    await page.getByRole('button', { name: 'Change status' }).click();
    await expect(page.getByTestId('status-result').textContent()).resolves.toContain('Now Contacted');
    await page.getByTestId('lead-status').getByText('Contacted').waitFor();
    await page
      .locator('[data-testid="status-history"] li[data-status="contacted"]')
      .getByText('“Left a voicemail”')
      .waitFor();
    const lead = await call(api(`/leads/${leadId}`), 'GET', workspace.apiKey);
    expect(lead.body.status).toBe('contacted');
    await shot(page, '03-lead-detail');

    // The feed saw it too.
    await page.getByRole('link', { name: 'Overview' }).click();
    await page
      .locator(`[data-testid="feed-item"][data-lead-id="${leadId}"][data-status="contacted"]`)
      .waitFor();
  });

  test('shows the funnel, the property grid, the timeline with drill-down, leads and notifications', async () => {
    const conversion = await call(api('/conversions'), 'POST', workspace.apiKey, {
      contact_id: leadId,
      conversion_type: 'deposit',
      conversion_value: 750,
    });
    expect(conversion.status).toBe(201);

    // Every analytics slot of the workspace taken (as reports of the page before still running would): the funnel's
    // reads are refused 429 with a short Retry-After, and the panel waits and asks again instead of failing.
    const slots = await harness.pool.connect();
    const slot = (lock: 'pg_advisory_lock' | 'pg_advisory_unlock', n: number) =>
      slots.query(`SELECT ${lock}($2::int, hashtext($1::text || ':' || $3::int))`, [
        workspace.workspaceId,
        ANALYTICS_SLOT_LOCK_CLASS,
        n,
      ]);
    const refused: string[] = [];
    const onResponse = (response: PageResponse) => {
      if (response.status() === 429 && response.url().includes('/analytics')) refused.push(response.url());
    };
    page.on('response', onResponse);
    try {
      for (let n = 0; n < ANALYTICS_CONCURRENCY; n++) await slot('pg_advisory_lock', n);
      await page.getByRole('link', { name: 'Funnel' }).click();
      await waitFor('the funnel to be refused while every slot is taken', async () => refused.length, {
        until: (count) => count > 0,
      });
      for (let n = 0; n < ANALYTICS_CONCURRENCY; n++) await slot('pg_advisory_unlock', n);
      await settled(page, 'Funnel');
      await page.locator('.funnel-stage[data-stage="contacted"]').getByText('1', { exact: true }).waitFor();
      expect(await page.getByRole('alert').count()).toBe(0);
    } finally {
      page.off('response', onResponse);
      await slots.query('SELECT pg_advisory_unlock_all()');
      slots.release();
    }
    await page.getByTestId('performance-grid').waitFor();
    await shot(page, '04-funnel');

    await page.getByRole('link', { name: 'Timeline' }).click();
    await settled(page, 'Conversion timeline');
    const chart = page.getByTestId('timeline-chart');
    await chart.focus();
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.getByTestId('drilldown').getByText('$750').waitFor();
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    expect((await download).suggestedFilename()).toMatch(/^conversion-analytics-.*\.csv$/);
    await shot(page, '05-timeline');

    await page.getByRole('link', { name: 'Leads' }).click();
    await settled(page, 'Leads');
    await page.locator(`[data-testid="leads-table"] tr[data-lead-id="${leadId}"]`).waitFor();
    for (const [button, file] of [
      ['Export leads as CSV', 'leads.csv'],
      ['Export leads as Excel', 'leads.xlsx'],
    ] as const) {
      const exported = page.waitForEvent('download');
      await page.getByRole('button', { name: button }).click();
      expect((await exported).suggestedFilename()).toBe(file);
    }
    await shot(page, '06-leads');

    await page.getByRole('link', { name: 'Notifications' }).click();
    await settled(page, 'Notifications');
    await shot(page, '07-notifications');
  });

  test('previews a new rule on the last 30 days, writing nothing, then saves, turns off and deletes it', async () => {
    const tasks = async () =>
      (await harness.pool.query('SELECT count(*)::int AS n FROM staff_tasks WHERE lead_id = $1', [leadId]))
        .rows[0].n as number;
    const before = await tasks();
    await page.getByRole('link', { name: 'Rules' }).click();
    await settled(page, 'Rules');
    await page.getByText('No rules yet.').waitFor();
    await page.getByLabel('Every property of the workspace').check();
    await page.getByLabel('When a lead enters').selectOption('contacted');
    await page.getByLabel('Do', { exact: true }).selectOption('create_task');
    await page.getByLabel('Task', { exact: true }).fill('call_back');
    await page.getByRole('button', { name: 'Preview on last 30 days' }).click();
    // Grace Hopper was contacted by staff above: the rule would have opened its task then.
    const row = page
      .getByTestId('preview-leads')
      .locator('tr', { has: page.locator(`a[href$="/leads/${leadId}"]`) });
    await expect(row.textContent()).resolves.toContain('+ task Call back');
    await shot(page, '07b-rule-preview');
    expect(await tasks()).toBe(before);

    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.getByTestId('rule-saved').waitFor();
    const rule = page.getByTestId('rules').locator('tbody tr');
    await expect(rule.textContent()).resolves.toContain('Every property');
    await rule.getByRole('button', { name: 'Turn off' }).click();
    await rule.getByText('off', { exact: true }).waitFor();
    await rule.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No rules yet.').waitFor();
  });

  test('sets up Salesforce from its generated form: client checks, server checks, test, save, edit, pause, delete', async () => {
    await page.getByRole('link', { name: 'Integrations', exact: true }).click();
    await settled(page, 'Integrations');
    const card = page.locator('[data-testid="template-card"][data-partner="salesforce"]');
    await expect(card.textContent()).resolves.toContain('not configured');
    await shot(page, '08-integrations');
    await card.getByRole('link', { name: 'Set up Salesforce' }).click();
    await settled(page, 'Set up Salesforce');

    const posts: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().includes('/api/v1/integrations'))
        posts.push(request.url());
    });
    // Client side: nothing is sent while the form is wrong.
    await page.getByLabel(/^Name/).fill('');
    await page.getByRole('button', { name: 'Save and activate' }).click();
    const baseUrl = page.locator('[data-field="config.base_url"]');
    await expect(baseUrl.locator('.field-error').textContent()).resolves.toBe('Required.');
    await expect(page.locator('[data-field="name"] .field-error').textContent()).resolves.toBe('Required.');
    await page.getByLabel(/^Name/).fill('Salesforce org');
    await baseUrl.locator('input').fill('not a url');
    await page.getByRole('button', { name: 'Test connection' }).click();
    await expect(baseUrl.locator('.field-error').textContent()).resolves.toContain('full URL');
    expect(posts).toEqual([]);
    await shot(page, '09-integration-setup-errors');

    // Server side: credentials the JSON Schema cannot express (client credentials or an access token).
    await baseUrl.locator('input').fill(salesforce.url);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByTestId('form-error').getByText('The server refused some fields').waitFor();
    await page.locator('[data-field="credentials.client_id"] .field-error').waitFor();
    expect(posts).toEqual([api('/integrations/test')]);

    // Test before save, against the Salesforce sandbox.
    await page.locator('[data-field="credentials.client_id"] input').fill(salesforce.clientId);
    await page.locator('[data-field="credentials.client_secret"] input').fill(salesforce.clientSecret);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await expect(page.getByTestId('test-result').textContent()).resolves.toContain('Connection works');
    await page.getByRole('button', { name: 'Save and activate' }).click();
    await page.getByTestId('integration-created').waitFor();
    await shot(page, '10-integration-created');

    await page.getByRole('link', { name: 'Go to the integration' }).click();
    await settled(page, 'Salesforce org');
    // Secrets are write-only: the page knows they exist, never what they are.
    await page.getByText('stored (write-only)').first().waitFor();
    expect(await page.content()).not.toContain(salesforce.clientSecret);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await expect(page.getByTestId('test-result').textContent()).resolves.toContain('Connection works');
    await shot(page, '11-integration-detail');

    // Edit: a new name; credentials left blank keep the stored ones.
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel(/^Name/).fill('Salesforce production');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await settled(page, 'Salesforce production');
    await page.getByRole('button', { name: 'Test connection' }).click();
    await expect(page.getByTestId('test-result').textContent()).resolves.toContain('Connection works');

    await page.getByRole('button', { name: 'Deactivate (pause)' }).click();
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    const listed = await call(api('/integrations'), 'GET', workspace.apiKey);
    const saved = listed.body.integrations.find((i: any) => i.partner === 'salesforce');
    expect(saved).toMatchObject({ name: 'Salesforce production', status: 'paused', has_credentials: true });
    expect(saved.config.base_url).toBe(salesforce.url);

    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await settled(page, 'Integrations');
    expect((await call(api(`/integrations/${saved.id}`), 'GET', workspace.apiKey)).status).toBe(404);
  });

  test('sets up a web form and shows its webhook secret once', async () => {
    await page.goto(app('/integrations/new/webform'));
    await settled(page, /^Set up /);
    await page.getByRole('button', { name: 'Save and activate' }).click();
    const secret = await page.getByTestId('webhook-secret').textContent();
    expect(secret).toMatch(/^whsec_/);
    await expect(page.getByTestId('webhook-url').textContent()).resolves.toMatch(
      /\/webhooks\/webform\/[0-9a-f-]{36}$/,
    );
    await page.getByRole('link', { name: 'Go to the integration' }).click();
    await page.getByTestId('integration-health').waitFor();
    expect(await page.content()).not.toContain(secret!);
    await page.getByRole('link', { name: 'All integrations' }).click();
    await settled(page, 'Integrations');
    const card = page.locator('[data-testid="template-card"][data-partner="webform"]');
    await expect(card.locator('.badge').textContent()).resolves.toBe('active');
    await page.getByTestId('integrations-table').getByRole('link', { name: 'Website form' }).waitFor();
  });

  test('imports a file: the column check before starting, live progress, the rows to fix, errors.csv', async () => {
    await page.getByRole('link', { name: 'Imports', exact: true }).click();
    await settled(page, 'Imports');
    const day = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel('CSV file').setInputFiles({
      name: 'crm-export.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        `email,status,created_at\nada-${Date.now()}@example.com,contacted,${day(5)}\nnot-an-email,new,${day(3)}\n`,
      ),
    });
    const start = page.getByRole('button', { name: 'Start import' });
    // Nothing starts before the columns are checked.
    expect(await start.isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Check columns' }).click();
    await expect(page.getByTestId('column-check').textContent()).resolves.toContain(
      '2 rows; 1 readable, 1 to fix',
    );
    await start.click();
    await settled(page, /^Import$/);
    await page.getByRole('status').getByText('2 of 2 rows read').waitFor();
    await page.getByTestId('import-rows').getByText('"not-an-email" is not an email address').waitFor();
    await shot(page, '12-import');
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download errors.csv' }).click();
    expect((await download).suggestedFilename()).toMatch(/^import-[0-9a-f-]{36}-errors\.csv$/);
  });

  test('works from the keyboard alone', async () => {
    await page.goto(app('/'));
    await settled(page, 'Overview');
    await page.keyboard.press('Tab');
    await expect(page.locator(':focus').textContent()).resolves.toBe('Skip to content');
    // Through the brand link to the main navigation, then open Leads with Enter.
    for (const name of ['leadrelay', 'Overview', 'Funnel', 'Timeline', 'Leads']) {
      await page.keyboard.press('Tab');
      await expect(page.locator(':focus').textContent()).resolves.toBe(name);
    }
    await page.keyboard.press('Enter');
    await settled(page, 'Leads');
    // The new page's heading has the focus: the next Tab lands inside it.
    await expect(page.locator(':focus').textContent()).resolves.toBe('Leads');
    expect(page.url()).toBe(app('/leads'));
  });

  test('fits a phone: one column, no sideways scrolling, a menu for the navigation', async () => {
    const phone = await browser.newPage({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      timezoneId: 'UTC',
    });
    phone.setDefaultTimeout(PAGE_WAIT_MS);
    try {
      await logIn(phone, workspace.apiKey);
      const pages: [string, string | RegExp, string][] = [
        ['/', 'Overview', 'phone-overview'],
        ['/funnel', 'Funnel', 'phone-funnel'],
        ['/timeline', 'Conversion timeline', 'phone-timeline'],
        ['/leads', 'Leads', 'phone-leads'],
        [`/leads/${leadId}`, 'Grace Hopper', 'phone-lead-detail'],
        ['/notifications', 'Notifications', 'phone-notifications'],
        ['/integrations', 'Integrations', 'phone-integrations'],
        ['/integrations/new/salesforce', 'Set up Salesforce', 'phone-integration-setup'],
      ];
      for (const [path, title, name] of pages) {
        await phone.goto(app(path));
        await settled(phone, title);
        const overflow = await phone.evaluate('document.documentElement.scrollWidth - window.innerWidth');
        expect({ path, overflow }).toEqual({ path, overflow: 0 });
        await shot(phone, name);
      }
      const nav = phone.getByRole('navigation', { name: 'Main' });
      await expect(nav.isVisible()).resolves.toBe(false);
      await phone.getByRole('button', { name: 'Menu' }).click();
      await nav.getByRole('link', { name: 'Leads' }).waitFor();
      await shot(phone, 'phone-menu');
      await nav.getByRole('link', { name: 'Leads' }).click();
      await settled(phone, 'Leads');
      await expect(nav.isVisible()).resolves.toBe(false);
    } finally {
      await phone.close();
    }
  });
});
