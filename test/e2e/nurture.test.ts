// The dashboard's sequences page and a property's tour calendar in headless Chromium (playwright-core, Debian's
// /usr/bin/chromium) against the real stack: a sequence created from its form (the server's field errors shown
// beside the field), tracking turned off, tour hours set on the property page, a tour booked from the lead's page
// and seen on the property's calendar. Screenshots go to test-artifacts/screenshots/.
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { call, registerWorkspace, startHarness, type Harness } from '../support/harness';
import { journeyWhere } from '../support/ingest';

const ROOT = join(__dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');
/** Below jest's timeout, so a missing element fails with Playwright's message naming it. */
const PAGE_WAIT_MS = 60_000;

let harness: Harness;
let browser: Browser;
let page: Page;
let workspace: { workspaceId: string; apiKey: string };

const api = (path: string) => `${harness.apiUrl}/api/v1${path}`;
const app = (path = '/') => `${harness.apiUrl}/app${path}`;

beforeAll(async () => {
  // Vite's build API (web/build.mjs), skipped when web/dist is newer than every source.
  await promisify(execFile)(process.execPath, [join(ROOT, 'web', 'build.mjs'), '--if-stale', '--quiet'], {
    cwd: ROOT,
  });
  mkdirSync(SHOTS, { recursive: true });
  [harness, browser] = await Promise.all([
    startHarness(),
    chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    }),
  ]);
  workspace = await registerWorkspace(harness.apiUrl, { workspace_name: 'Nurture', timezone: 'UTC' });
  expect(
    (
      await call(api('/properties'), 'POST', workspace.apiKey, {
        property_id: 'oak',
        name: 'Oak Grove',
        timezone: 'UTC',
        vertical: 'multifamily',
      })
    ).status,
  ).toBe(201);
  expect(
    (
      await call(api('/message-templates'), 'POST', workspace.apiKey, {
        id: 'welcome',
        name: 'Welcome',
        channel: 'email',
        subject: 'Welcome to {property_name}',
        body: 'Hi {first_name}, see https://oak.example/plans',
      })
    ).status,
  ).toBe(201);
  page = await browser.newPage({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' });
  page.setDefaultTimeout(PAGE_WAIT_MS);
  await page.goto(app('/'));
  await page.getByLabel('API key').fill(workspace.apiKey);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
});
afterAll(async () => {
  await page?.close();
  await browser?.close();
  await harness?.stop();
});

async function settled(title: string | RegExp): Promise<void> {
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
  await page.locator('.state-loading').first().waitFor({ state: 'detached' });
}

test('the sequences page creates a sequence from its form, shows the server’s field errors, and turns tracking off', async () => {
  await page.getByRole('link', { name: 'Sequences', exact: true }).click();
  await settled('Sequences');
  await page.getByRole('button', { name: 'New sequence' }).click();
  const form = page.getByRole('form', { name: 'New sequence' });
  await form.getByLabel('Name').fill('Web nurture');
  await form.getByLabel('Property').selectOption('oak');
  await form.getByLabel('Step 1: wait').fill('soon');
  await form.getByLabel('template').selectOption('welcome');
  await form.getByRole('button', { name: 'Create sequence' }).click();
  // The wait is checked by the server, which names the field; the form shows it beside the field.
  await page.getByTestId('form-error').waitFor();
  await form.locator('[data-field="steps.0.wait"] .field-error').waitFor();
  await form.getByLabel('Step 1: wait').fill('2d');
  await form.getByRole('button', { name: 'Create sequence' }).click();
  await settled('Web nurture');
  const listed = await call(api('/sequences'), 'GET', workspace.apiKey);
  expect(listed.body.sequences).toEqual([
    expect.objectContaining({
      name: 'Web nurture',
      property_id: 'oak',
      steps: [expect.objectContaining({ wait: '2d', channel: 'email', template_id: 'welcome' })],
    }),
  ]);
  await page.getByTestId('step-stats').waitFor();
  await page.screenshot({ path: join(SHOTS, 'nurture-01-sequence.png'), fullPage: true });

  await page.getByRole('link', { name: 'Sequences', exact: true }).click();
  await settled('Sequences');
  await page.locator('[data-testid="sequences-table"]').getByText('Web nurture').waitFor();
  const tracking = page.getByTestId('email-tracking');
  // The box shows the server's setting: it clears once the change is saved and read back.
  await tracking.click();
  await page.locator('[data-testid="email-tracking"]:not(:checked)').waitFor();
  const settings = await call(api(`/workspaces/${workspace.workspaceId}/settings`), 'GET', workspace.apiKey);
  expect(settings.body.email_tracking).toBe(false);
});

test('tour hours set on the property page give free slots; a tour booked from the lead shows on the calendar', async () => {
  await page.getByRole('link', { name: 'Properties', exact: true }).click();
  await settled('Properties');
  await page.getByRole('link', { name: 'Oak Grove' }).click();
  await settled('Oak Grove');
  const form = page.getByRole('form', { name: 'Tour settings' });
  for (const day of ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']) {
    await form.getByRole('button', { name: new RegExp(`^Add hours on ${day}`) }).click();
  }
  await form.getByLabel('Slot length (minutes)').fill('60');
  await form.getByLabel('Tours per slot').fill('1');
  await form.getByLabel('Booking notice (minutes)').fill('0');
  await form.getByRole('button', { name: 'Save tour settings' }).click();
  await page.getByTestId('tour-settings-saved').waitFor();
  await page.getByTestId('free-slot').first().waitFor();
  const saved = await call(api('/properties/oak/tour-settings'), 'GET', workspace.apiKey);
  expect(saved.body).toMatchObject({ tour_slot_minutes: 60, tour_capacity: 1, tour_notice_minutes: 0 });
  expect(Object.keys(saved.body.tour_hours)).toHaveLength(7);

  const lead = await call(api('/leads'), 'POST', workspace.apiKey, {
    source: 'website',
    first_name: 'Ada',
    last_name: 'Lovelace',
    email: `ada-${Date.now()}@example.com`,
    property_id: 'oak',
  });
  expect(lead.status).toBe(201);
  const leadId = lead.body.id as string;
  await page.goto(app(`/leads/${leadId}`));
  await settled('Ada Lovelace');
  const booking = page.getByRole('form', { name: 'Book a tour' });
  const slot = booking.getByLabel('Free slot');
  await slot.locator('option:nth-child(2)').waitFor({ state: 'attached' });
  const start = await slot.locator('option:nth-child(2)').getAttribute('value');
  await slot.selectOption(start!);
  await booking.getByRole('button', { name: 'Book tour' }).click();
  await page.getByTestId('booked-tour-of-lead').waitFor();
  const tour = await call(api(`/leads/${leadId}/tour`), 'GET', workspace.apiKey);
  expect(tour.body.tour).toMatchObject({ start, status: 'booked' });
  await journeyWhere(harness, workspace.workspaceId, leadId, (s) => s.status === 'tour_scheduled');
  await page.screenshot({ path: join(SHOTS, 'nurture-02-lead-tour.png'), fullPage: true });

  await page.goto(app('/properties/oak'));
  await settled('Oak Grove');
  const booked = page.locator(`[data-testid="booked-tour"][data-lead-id="${leadId}"]`);
  await booked.waitFor();
  await expect(booked.textContent()).resolves.toContain('Ada Lovelace');
  // Its slot had one place: it is no longer offered.
  expect(await page.locator(`[data-testid="free-slot"][data-start="${start}"]`).count()).toBe(0);
  await page.screenshot({ path: join(SHOTS, 'nurture-03-tour-calendar.png'), fullPage: true });
});
