// Nurture sequences over HTTP on the real stack: sequences and templates defined and refused field by field, a
// web inquiry enrolling its lead, the step's email sent over SMTP with a pixel and signed links that the api
// answers (an altered link is 404, never a redirect), opens and clicks on the lead and in per-step rates, staff
// stopping an enrolment, the one-click unsubscribe ending one, and the workspace's tracking switch.
import { randomUUID } from 'node:crypto';
import { createEmailChannel } from '../../activities/notify/email';
import { unsubscribeToken } from '../../activities/notify/unsubscribe';
import { startMailbox, type Mailbox } from '../../infra/local/mailbox';
import { KeyRing } from '../../shared/crypto';
import { call, ENCRYPTION_KEYS, registerWorkspace, startHarness, type Harness } from '../support/harness';
import { uniqueEmail } from '../support/ingest';
import { remainingMs, waitFor } from '../support/wait';

const PUBLIC_URL = 'http://leadrelay.test';
let harness: Harness;
let mailbox: Mailbox;
let workspace: { workspaceId: string; apiKey: string };
let other: { workspaceId: string; apiKey: string };
let sequenceId: string;

const api = (path: string) => `${harness.apiUrl}/api/v1${path}`;
/** A link from an email, pointed at this test's api instead of the public host. */
const local = (link: string) => link.replace(PUBLIC_URL, harness.apiUrl);

/** A zone where it is midday now, so no step waits for quiet hours to end. */
function middayZone(): string {
  const offset = ((new Date().getUTCHours() - 12 + 36) % 24) - 12;
  return offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '+' : '-'}${Math.abs(offset)}`;
}

beforeAll(async () => {
  mailbox = await startMailbox({ smtpPort: 0, httpPort: 0 });
  harness = await startHarness({
    notify: {
      channels: {
        email: createEmailChannel({ smtpUrl: mailbox.smtpUrl, from: 'Oak <leasing@oak.example>' }),
      },
      apiUrl: PUBLIC_URL,
    },
  });
  workspace = await registerWorkspace(harness.apiUrl, { workspace_name: 'Nurture' });
  other = await registerWorkspace(harness.apiUrl);
  const property = await call(api('/properties'), 'POST', workspace.apiKey, {
    property_id: 'oak',
    name: 'Oak Grove',
    timezone: middayZone(),
    vertical: 'multifamily',
  });
  expect(property.status).toBe(201);
});
afterAll(async () => {
  await harness?.stop();
  await mailbox?.stop();
});

const fieldsOf = (answer: { body: any }) =>
  (answer.body.error.details.fields as { field: string }[]).map((f) => f.field);

async function enrolments(leadId: string) {
  const answer = await call(api(`/leads/${leadId}/sequences`), 'GET', workspace.apiKey);
  expect(answer.status).toBe(200);
  return answer.body.enrolments as any[];
}

async function webLead(email: string) {
  const created = await call(api('/leads'), 'POST', workspace.apiKey, {
    source: 'website',
    email,
    first_name: 'Maya',
    property_id: 'oak',
  });
  expect(created.status).toBe(201);
  return created.body.id as string;
}

test('templates and sequences are refused with every bad field named, and kept when right', async () => {
  const noSubject = await call(api('/message-templates'), 'POST', workspace.apiKey, {
    name: 'Welcome',
    channel: 'email',
    body: 'Hi',
  });
  expect(noSubject.status).toBe(400);
  expect(fieldsOf(noSubject)).toEqual(['subject']);
  const template = await call(api('/message-templates'), 'POST', workspace.apiKey, {
    id: 'welcome',
    name: 'Welcome',
    channel: 'email',
    subject: 'Welcome to {property_name}, {first_name}',
    body: 'Hi {first_name}, see floor plans at https://oak.example/plans.',
  });
  expect(template.status).toBe(201);
  const twice = await call(api('/message-templates'), 'POST', workspace.apiKey, {
    id: 'welcome',
    name: 'Again',
    body: 'x',
  });
  expect(twice.status).toBe(409);

  const bad = await call(api('/sequences'), 'POST', workspace.apiKey, {
    name: '',
    trigger: { event: 'someday' },
    steps: [{ wait: 'soon', channel: 'fax', template_id: 'welcome' }],
  });
  expect(bad.status).toBe(400);
  expect(fieldsOf(bad)).toEqual(
    expect.arrayContaining(['name', 'trigger.event', 'steps.0.wait', 'steps.0.channel']),
  );
  const unknownTemplate = await call(api('/sequences'), 'POST', workspace.apiKey, {
    name: 'Nurture',
    trigger: { event: 'inquiry' },
    steps: [{ wait: '1h', channel: 'sms', template_id: 'welcome' }],
  });
  expect(unknownTemplate.status).toBe(400);
  expect(fieldsOf(unknownTemplate)).toEqual(['steps.0.channel']);

  const created = await call(api('/sequences'), 'POST', workspace.apiKey, {
    name: 'Web nurture',
    property_id: 'oak',
    trigger: { event: 'inquiry', sources: ['website'] },
    steps: [
      { wait: '0', channel: 'email', template_id: 'welcome' },
      { wait: '2d', channel: 'email', template_id: 'welcome' },
    ],
    exit_on: { statuses: ['tour_scheduled', 'lost'], reply: true },
  });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({
    name: 'Web nurture',
    steps: [
      { wait: '0', wait_minutes: 0 },
      { wait: '2d', wait_minutes: 2880 },
    ],
    exit_on: { statuses: ['tour_scheduled', 'lost'], reply: true, unsubscribe: true },
    is_active: true,
  });
  sequenceId = created.body.id;
  const listed = await call(api('/sequences'), 'GET', workspace.apiKey);
  expect(listed.body.sequences.map((s: { id: string }) => s.id)).toEqual([sequenceId]);
  // Another workspace sees none of it.
  expect((await call(api(`/sequences/${sequenceId}`), 'GET', other.apiKey)).status).toBe(404);
  expect((await call(api('/sequences/not-a-uuid'), 'GET', workspace.apiKey)).status).toBe(400);
  const inUse = await call(api('/message-templates/welcome'), 'DELETE', workspace.apiKey);
  expect(inUse.status).toBe(409);
  expect(inUse.body.error.details.sequences).toEqual([expect.objectContaining({ name: 'Web nurture' })]);
  const empty = await call(api(`/sequences/${sequenceId}`), 'PATCH', workspace.apiKey, {});
  expect(empty.status).toBe(400);
  const renamed = await call(api(`/sequences/${sequenceId}`), 'PATCH', workspace.apiKey, {
    name: 'Website nurture',
    steps: [{ wait: 'a fortnight', channel: 'email', template_id: 'welcome' }],
  });
  expect(renamed.status).toBe(400);
  expect(fieldsOf(renamed)).toEqual(['steps.0.wait']);
  const paused = await call(api(`/sequences/${sequenceId}`), 'PATCH', workspace.apiKey, { is_active: false });
  expect(paused.body).toMatchObject({ name: 'Web nurture', is_active: false });
  const resumed = await call(api(`/sequences/${sequenceId}`), 'PATCH', workspace.apiKey, { is_active: true });
  expect(resumed.body.is_active).toBe(true);

  const edited = await call(api('/message-templates/welcome'), 'PATCH', workspace.apiKey, {
    name: 'Welcome email',
  });
  expect(edited.body).toMatchObject({ id: 'welcome', name: 'Welcome email', built_in: false });
  const badEdit = await call(api('/message-templates/welcome'), 'PATCH', workspace.apiKey, { body: '' });
  expect(badEdit.status).toBe(400);
  expect(fieldsOf(badEdit)).toEqual(['body']);
  expect((await call(api('/message-templates/welcome'), 'GET', workspace.apiKey)).body.name).toBe(
    'Welcome email',
  );
  expect((await call(api('/message-templates/nothing-here'), 'GET', workspace.apiKey)).status).toBe(404);
  expect((await call(api('/message-templates/Bad%20Id'), 'GET', workspace.apiKey)).status).toBe(400);
});

test('an inquiry enrols its lead; the email’s pixel and signed link are counted on the lead and per step', async () => {
  const email = uniqueEmail('nurture');
  const leadId = await webLead(email);
  const mail = await mailbox.waitFor((m) => m.to.includes(email), remainingMs());
  expect(mail.subject).toBe('Welcome to Oak Grove, Maya');
  const click = /http:\/\/leadrelay\.test\/t\/c\/[\w-]+\.[\w-]+\.[\w-]+/.exec(mail.text)![0];
  const pixel = /http:\/\/leadrelay\.test\/t\/o\/[\w.-]+\.gif/.exec(mail.html ?? '')![0];

  const image = await fetch(local(pixel));
  expect(image.status).toBe(200);
  expect(image.headers.get('content-type')).toBe('image/gif');
  const followed = await fetch(local(click), { redirect: 'manual' });
  expect(followed.status).toBe(302);
  expect(followed.headers.get('location')).toBe('https://oak.example/plans');
  // A token altered to point elsewhere, or no token of ours, never redirects.
  const token = click.split('/t/c/')[1]!;
  const [, keyId, mac] = token.split('.');
  const elsewhere = Buffer.from(JSON.stringify({ d: randomUUID(), u: 'https://evil.example' })).toString(
    'base64url',
  );
  const forged = `${elsewhere}.${keyId}.${mac}`;
  for (const bad of [forged, `${token.split('.')[0]}.${keyId}.x${mac}`, 'nonsense']) {
    const answer = await fetch(`${harness.apiUrl}/t/c/${bad}`, { redirect: 'manual' });
    expect(answer.status).toBe(404);
    expect(answer.headers.get('location')).toBeNull();
  }
  const garbledPixel = await fetch(`${harness.apiUrl}/t/o/nonsense.gif`);
  expect(garbledPixel.status).toBe(200);

  const [enrolment] = await waitFor('the open and the click on the lead’s enrolment', async () => {
    const rows = await enrolments(leadId);
    const message = rows[0]?.messages[0];
    return message?.opened_at && message?.clicked_at ? rows : undefined;
  });
  expect(enrolment).toMatchObject({ sequence_id: sequenceId, state: 'active', step: 1, steps_total: 2 });
  expect(enrolment.messages).toEqual([
    expect.objectContaining({
      step: 0,
      channel: 'email',
      status: 'sent',
      subject: 'Welcome to Oak Grove, Maya',
    }),
  ]);
  const analytics = await call(api(`/sequences/${sequenceId}/analytics`), 'GET', workspace.apiKey);
  expect(analytics.status).toBe(200);
  expect(analytics.body.steps[0]).toMatchObject({
    step: 0,
    sent: 1,
    opened: 1,
    clicked: 1,
    open_rate: 1,
    click_rate: 1,
  });
  expect(analytics.body.steps[1]).toMatchObject({ step: 1, sent: 0, open_rate: null });

  // Staff stop it: once; a second stop is a conflict naming its state.
  const stopped = await call(
    api(`/leads/${leadId}/sequences/${enrolment.id}/stop`),
    'POST',
    workspace.apiKey,
    {
      actor: 'Dana',
    },
  );
  expect(stopped.status).toBe(200);
  expect(stopped.body).toEqual({ id: enrolment.id, state: 'stopped', exit_reason: 'stopped by Dana' });
  const again = await call(api(`/leads/${leadId}/sequences/${enrolment.id}/stop`), 'POST', workspace.apiKey);
  expect(again.status).toBe(409);
  expect(again.body.error.details.state).toBe('stopped');
  const missing = await call(
    api(`/leads/${leadId}/sequences/${randomUUID()}/stop`),
    'POST',
    workspace.apiKey,
  );
  expect(missing.status).toBe(404);
});

test('the one-click unsubscribe ends the lead’s enrolment; with tracking turned off email goes untracked', async () => {
  const email = uniqueEmail('leaver');
  const leadId = await webLead(email);
  await mailbox.waitFor((m) => m.to.includes(email), remainingMs());
  const keyRing = KeyRing.parse(ENCRYPTION_KEYS);
  const unsubscribed = await fetch(
    `${harness.apiUrl}/unsubscribe/${unsubscribeToken(keyRing, workspace.workspaceId, leadId)}`,
    { method: 'POST' },
  );
  expect(unsubscribed.status).toBe(200);
  const [enrolment] = await waitFor('the enrolment to end', async () => {
    const rows = await enrolments(leadId);
    return rows[0]?.state === 'exited' ? rows : undefined;
  });
  expect(enrolment.exit_reason).toBe('unsubscribed from email');

  const settings = api(`/workspaces/${workspace.workspaceId}/settings`);
  expect((await call(settings, 'GET', workspace.apiKey)).body).toEqual({
    workspace_id: workspace.workspaceId,
    email_tracking: true,
  });
  const bad = await call(settings, 'PATCH', workspace.apiKey, { email_tracking: 'off' });
  expect(bad.status).toBe(400);
  expect(fieldsOf(bad)).toEqual(['email_tracking']);
  const off = await call(settings, 'PATCH', workspace.apiKey, { email_tracking: false });
  expect(off.body.email_tracking).toBe(false);
  // With tracking off, the next lead's email carries the template's own link and no pixel.
  const untracked = uniqueEmail('untracked');
  await webLead(untracked);
  const plain = await mailbox.waitFor((m) => m.to.includes(untracked), remainingMs());
  expect(plain.text).toContain('https://oak.example/plans');
  expect(`${plain.text}${plain.html ?? ''}`).not.toMatch(/\/t\/[oc]\//);
  const notOurs = await call(api(`/workspaces/${other.workspaceId}/settings`), 'GET', workspace.apiKey);
  expect(notOurs.status).toBe(404);

  const removed = await call(api(`/sequences/${sequenceId}`), 'DELETE', workspace.apiKey);
  expect(removed.status).toBe(204);
  expect((await call(api(`/sequences/${sequenceId}`), 'GET', workspace.apiKey)).status).toBe(404);
});
