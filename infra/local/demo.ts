// Demo mode of the start command (`npm start -- --demo`): every partner sandbox on a fixed local port and a
// demo workspace whose integrations point at them, so a new user sees leads pushed to HubSpot, Salesforce,
// ResMan, GoHighLevel, APFM and Caring.com without accounts at any of them. Set up through the public API,
// as a user would; credentials and the API key are kept in <data dir>/demo.json so a second start reuses them.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_GHL_PIPELINE, startGoHighLevelSandbox } from '../sandbox/gohighlevel';
import { startHubSpotSandbox } from '../sandbox/hubspot';
import type { PartnerSandbox } from '../sandbox/partner';
import { startReferralSandbox } from '../sandbox/referral';
import { startResManSandbox } from '../sandbox/resman';
import { startSalesforceSandbox } from '../sandbox/salesforce';
import { assertPortFree } from './ports';

/** Fixed ports, so integrations stored by a first start still point at the sandboxes of the next. */
export const DEMO_PORTS = {
  hubspot: 9101,
  salesforce: 9102,
  resman: 9103,
  gohighlevel: 9104,
  apfm: 9105,
  caring: 9106,
} as const;

interface DemoState {
  workspaceId: string;
  apiKey?: string;
  hubspotToken: string;
  hubspotAppSecret: string;
  salesforce: { clientId: string; clientSecret: string };
  resman: { integrationPartnerId: string; apiKey: string; accountId: string; propertyId: string };
  gohighlevel: { accessToken: string; locationId: string; publicKey: string };
  apfm: { apiKey: string; apiSecret: string };
  caring: { apiKey: string; apiSecret: string };
}

const token = (bytes = 16) => randomBytes(bytes).toString('hex');
const whsec = () => `whsec_${randomBytes(32).toString('base64')}`;
const guid = () => {
  const hex = token(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
};

function loadState(file: string): DemoState {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DemoState;
  return {
    workspaceId: 'demo',
    hubspotToken: `pat-na1-${guid()}`,
    hubspotAppSecret: guid(),
    salesforce: { clientId: `3MVG9${token(12)}`, clientSecret: token(32) },
    resman: { integrationPartnerId: guid(), apiKey: token(16), accountId: '400', propertyId: guid() },
    gohighlevel: {
      accessToken: `pit-${guid()}`,
      locationId: `loc${token(8)}`,
      publicKey: generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    },
    apfm: { apiKey: token(16), apiSecret: whsec() },
    caring: { apiKey: token(16), apiSecret: whsec() },
  };
}

export interface Demo {
  lines: string[];
  close(): Promise<void>;
}

type DemoPorts = Record<keyof typeof DEMO_PORTS, number>;

export async function startDemo(options: {
  apiUrl: string;
  adminToken: string;
  dataDir: string;
  /** Other ports than DEMO_PORTS (tests use free ones). */
  ports?: DemoPorts;
}): Promise<Demo> {
  const file = join(options.dataDir, 'demo.json');
  const state = loadState(file);
  const ports = options.ports ?? DEMO_PORTS;
  for (const [name, port] of Object.entries(ports)) await assertPortFree(port, `demo ${name} sandbox`);
  // Started one by one; one that cannot start (its port taken meanwhile) closes those already running.
  const started: PartnerSandbox[] = [];
  const close = async () => {
    await Promise.all(started.map((sandbox) => sandbox.close()));
  };
  const run = async <T extends PartnerSandbox>(sandbox: Promise<T>): Promise<T> => {
    started.push(await sandbox);
    return started.at(-1) as T;
  };
  let resman: Awaited<ReturnType<typeof startResManSandbox>>;
  let sandboxes: Record<keyof DemoPorts, PartnerSandbox>;
  try {
    resman = await run(startResManSandbox({ port: ports.resman, ...state.resman }));
    sandboxes = {
      hubspot: await run(startHubSpotSandbox({ port: ports.hubspot, accessToken: state.hubspotToken })),
      salesforce: await run(startSalesforceSandbox({ port: ports.salesforce, ...state.salesforce })),
      resman,
      gohighlevel: await run(
        startGoHighLevelSandbox({
          port: ports.gohighlevel,
          accessToken: state.gohighlevel.accessToken,
          locationId: state.gohighlevel.locationId,
        }),
      ),
      apfm: await run(startReferralSandbox({ partner: 'apfm', port: ports.apfm, ...state.apfm })),
      caring: await run(startReferralSandbox({ partner: 'caring', port: ports.caring, ...state.caring })),
    };
  } catch (error) {
    await close();
    throw error;
  }
  try {
    if (!state.apiKey) {
      // ResMan refuses a prospect whose source it does not know: the sandbox's first source is the default.
      state.apiKey = await setUp(options, state, ports, resman.sources[0]!.ID);
      writeFileSync(file, JSON.stringify(state, null, 2), { mode: 0o600 });
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    lines: [
      `  Demo workspace   ${state.workspaceId}  API key ${state.apiKey}  (kept in ${file})`,
      ...Object.entries(sandboxes).map(
        ([name, sandbox]) =>
          `  ${`${name} sandbox`.padEnd(18)}${sandbox.url}  (requests: ${sandbox.url}/__sandbox/requests)`,
      ),
      `  Try it           curl -s -X POST ${options.apiUrl}/api/v1/leads -H 'Authorization: Bearer ${state.apiKey}' \\`,
      `                     -H 'content-type: application/json' \\`,
      `                     -d '{"source":"website","property_id":"maple","last_name":"Demo","email":"demo@example.com"}'`,
    ],
    close,
  };
}

/** The demo workspace, its two properties and one integration per outbound partner, through the public API. */
async function setUp(
  options: { apiUrl: string; adminToken: string },
  state: DemoState,
  ports: DemoPorts,
  resmanSourceId: string,
): Promise<string> {
  const call = async (path: string, token: string, body: unknown): Promise<Record<string, unknown>> => {
    const response = await fetch(`${options.apiUrl}/api/v1${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as Record<string, unknown>;
    if (!response.ok)
      throw new Error(`demo setup: POST ${path} answered ${response.status} ${JSON.stringify(answer)}`);
    return answer;
  };
  state.workspaceId = `demo-${token(3)}`;
  const workspace = await call('/workspaces', options.adminToken, {
    workspace_id: state.workspaceId,
    workspace_name: 'Demo communities',
    timezone: 'America/Chicago',
  });
  const apiKey = String(workspace.api_key);
  await call('/properties', apiKey, {
    property_id: 'maple',
    name: 'Maple Commons Apartments',
    timezone: 'America/Chicago',
    vertical: 'multifamily',
  });
  await call('/properties', apiKey, {
    property_id: 'oak',
    name: 'Oak Grove Senior Living',
    timezone: 'America/Chicago',
    vertical: 'senior_living',
  });
  const url = (partner: keyof DemoPorts) => `http://127.0.0.1:${ports[partner]}`;
  const integrations = [
    {
      partner: 'hubspot',
      name: 'HubSpot (sandbox)',
      config: { base_url: url('hubspot') },
      // The app secret signs HubSpot's webhooks to us; the token authorizes our pushes.
      credentials: { access_token: state.hubspotToken, client_secret: state.hubspotAppSecret },
    },
    {
      partner: 'salesforce',
      name: 'Salesforce (sandbox)',
      config: { base_url: url('salesforce') },
      credentials: { client_id: state.salesforce.clientId, client_secret: state.salesforce.clientSecret },
    },
    {
      partner: 'resman',
      name: 'ResMan (sandbox)',
      property_id: 'maple',
      config: {
        base_url: url('resman'),
        property_id: state.resman.propertyId,
        default_source_id: resmanSourceId,
      },
      credentials: {
        integration_partner_id: state.resman.integrationPartnerId,
        api_key: state.resman.apiKey,
        account_id: state.resman.accountId,
      },
    },
    {
      partner: 'gohighlevel',
      name: 'GoHighLevel (sandbox)',
      property_id: 'maple',
      config: {
        base_url: url('gohighlevel'),
        location_id: state.gohighlevel.locationId,
        public_key: state.gohighlevel.publicKey,
        pipeline_id: DEFAULT_GHL_PIPELINE.id,
        stage_ids: Object.fromEntries(
          (['new', 'contacted', 'tour_scheduled', 'toured', 'application', 'leased', 'lost'] as const).map(
            (status, i) => [status, DEFAULT_GHL_PIPELINE.stages[i]!.id],
          ),
        ),
      },
      credentials: { access_token: state.gohighlevel.accessToken },
    },
    {
      partner: 'apfm',
      name: 'A Place for Mom (sandbox)',
      property_id: 'oak',
      config: { base_url: url('apfm'), polling: true },
      credentials: { api_key: state.apfm.apiKey, api_secret: state.apfm.apiSecret },
    },
    {
      partner: 'caring',
      name: 'Caring.com (sandbox)',
      property_id: 'oak',
      config: { base_url: url('caring'), polling: true },
      credentials: { api_key: state.caring.apiKey, api_secret: state.caring.apiSecret },
    },
  ];
  for (const integration of integrations) await call('/integrations', apiKey, integration);
  return apiKey;
}
