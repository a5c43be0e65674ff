// The start command's demo mode: partner sandboxes plus a demo workspace wired to them through the public API;
// a lead created there reaches every CRM and PMS sandbox, and a second start reuses what the first set up.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemo, type Demo } from '../../infra/local/demo';
import { freePort } from '../../infra/local/ports';
import { ADMIN_TOKEN, call, startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/ingest';

let harness: Harness;
let dataDir: string;
let demo: Demo | undefined;

beforeAll(async () => {
  harness = await startHarness();
  dataDir = mkdtempSync(join(tmpdir(), 'leadrelay-demo-'));
});
afterAll(async () => {
  await demo?.close();
  await harness?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function ports() {
  return {
    hubspot: await freePort(),
    salesforce: await freePort(),
    resman: await freePort(),
    gohighlevel: await freePort(),
    apfm: await freePort(),
    caring: await freePort(),
  };
}

/**
 * The demo on ports free a moment ago; chosen again when another process took one of them in between (a port
 * freed by a closed server may be any other socket's next ephemeral port).
 */
async function startOnFreePorts(): Promise<Demo> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startDemo({
        apiUrl: harness.apiUrl,
        adminToken: ADMIN_TOKEN,
        dataDir,
        ports: await ports(),
      });
    } catch (error) {
      if (attempt >= 3 || !/address already in use|EADDRINUSE/i.test(String(error))) throw error;
    }
  }
}

test('a demo lead is pushed to HubSpot, Salesforce, ResMan and GoHighLevel sandboxes; a restart reuses the workspace', async () => {
  demo = await startOnFreePorts();
  const state = JSON.parse(readFileSync(join(dataDir, 'demo.json'), 'utf8'));
  const key: string = state.apiKey;
  expect(demo.lines.join('\n')).toContain(key);

  const integrations = await call(`${harness.apiUrl}/api/v1/integrations`, 'GET', key);
  expect(integrations.body.integrations.map((i: any) => i.partner).sort()).toEqual([
    'apfm',
    'caring',
    'gohighlevel',
    'hubspot',
    'resman',
    'salesforce',
  ]);

  const lead = await call(`${harness.apiUrl}/api/v1/leads`, 'POST', key, {
    source: 'website',
    property_id: 'maple',
    first_name: 'Dana',
    last_name: 'Demo',
    email: 'dana.demo@example.com',
  });
  expect(lead.status).toBe(201);
  // Wait on the database (waiting must not spend the demo workspace's API budget), then read the API once.
  await waitFor(
    'four settled partner syncs of the demo lead',
    async () =>
      (
        await harness.pool.query('SELECT partner, outcome FROM partner_syncs WHERE lead_id = $1', [
          lead.body.id,
        ])
      ).rows,
    { until: (rows) => rows.length === 4 && rows.every((row) => row.outcome !== 'pending') },
  );
  const { syncs } = (await call(`${harness.apiUrl}/api/v1/leads/${lead.body.id}/syncs`, 'GET', key)).body;
  // APFM and Caring serve the senior-living property; this lead is at the apartments.
  expect(syncs.map((row: any) => [row.partner, row.outcome]).sort()).toEqual([
    ['gohighlevel', 'success'],
    ['hubspot', 'success'],
    ['resman', 'success'],
    ['salesforce', 'success'],
  ]);
  await demo.close();

  // Second start: same key, same integrations (the sandboxes moved to new ports here, so only the setup is compared).
  demo = await startOnFreePorts();
  expect(JSON.parse(readFileSync(join(dataDir, 'demo.json'), 'utf8')).apiKey).toBe(key);
  const again = await call(`${harness.apiUrl}/api/v1/integrations`, 'GET', key);
  expect(again.body.integrations).toHaveLength(6);
});
