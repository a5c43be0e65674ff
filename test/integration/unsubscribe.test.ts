// The signed one-click unsubscribe link of prospect email, over HTTP.
import { randomUUID } from 'node:crypto';
import { readUnsubscribeToken, unsubscribeToken } from '../../activities/notify/unsubscribe';
import { KeyRing } from '../../shared/crypto';
import { call, ENCRYPTION_KEYS, registerWorkspace, startHarness, type Harness } from '../support/harness';

let harness: Harness;
const keyRing = KeyRing.parse(ENCRYPTION_KEYS);
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => {
  await harness?.stop();
});

test('a token names its lead, and any change to it is refused', () => {
  const token = unsubscribeToken(keyRing, 'ws_a', 'lead-1');
  expect(readUnsubscribeToken(keyRing, token)).toEqual({ workspaceId: 'ws_a', leadId: 'lead-1' });
  const other = unsubscribeToken(keyRing, 'ws_a', 'lead-2');
  const forged = `${other.split('.')[0]}.${token.split('.').slice(1).join('.')}`;
  expect(readUnsubscribeToken(keyRing, forged)).toBeUndefined();
  expect(readUnsubscribeToken(KeyRing.parse(KeyRing.generateSpec()), token)).toBeUndefined();
  expect(readUnsubscribeToken(keyRing, 'garbage')).toBeUndefined();
});

test('GET shows a confirmation page; the one-click POST opts the lead out of email, once', async () => {
  const { apiKey, workspaceId } = await registerWorkspace(harness.apiUrl);
  const lead = await call(`${harness.apiUrl}/api/v1/leads`, 'POST', apiKey, {
    source: 'website',
    email: `${randomUUID()}@example.com`,
  });
  const url = `${harness.apiUrl}/unsubscribe/${unsubscribeToken(keyRing, workspaceId, lead.body.id)}`;
  const confirm = await fetch(url);
  expect(confirm.status).toBe(200);
  expect(await confirm.text()).toContain('<form method="post">');
  const oneClick = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'List-Unsubscribe=One-Click',
  });
  expect(oneClick.status).toBe(200);
  const first = await harness.pool.query('SELECT email_opted_out_at FROM leads WHERE id = $1', [
    lead.body.id,
  ]);
  expect(first.rows[0].email_opted_out_at).toBeInstanceOf(Date);
  await fetch(url, { method: 'POST' });
  const second = await harness.pool.query('SELECT email_opted_out_at FROM leads WHERE id = $1', [
    lead.body.id,
  ]);
  expect(second.rows[0].email_opted_out_at).toEqual(first.rows[0].email_opted_out_at);
  const bad = await fetch(`${harness.apiUrl}/unsubscribe/nonsense.k.x`, { method: 'POST' });
  expect(bad.status).toBe(404);
});
