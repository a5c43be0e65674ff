// The local mailbox end to end: real SMTP in, the page and JSON API out, mail kept across a restart.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { startMailbox, type Mailbox } from '../../infra/local/mailbox';
import { remainingMs } from '../support/wait';

const SUBJECT = 'Tour booked <script>alert(1)</script> & confirmed';
const HTML = '<p class="mail-body">See you <b>Tuesday</b> at 10:00</p>';

let dir: string;
let mailbox: Mailbox;
const started: Mailbox[] = [];

async function start(): Promise<Mailbox> {
  const box = await startMailbox({ smtpPort: 0, httpPort: 0, dir });
  started.push(box);
  return box;
}

async function send(box: Mailbox, mail: { subject: string; to?: string; text?: string; html?: string }) {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: box.smtpPort,
    secure: false,
    ignoreTLS: true,
  });
  try {
    await transport.sendMail({
      from: 'leadrelay <no-reply@leadrelay.local>',
      to: 'lead@example.com',
      ...mail,
    });
  } finally {
    transport.close();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mailbox-test-'));
  mailbox = await start();
  await send(mailbox, { subject: SUBJECT, text: 'See you Tuesday at 10:00', html: HTML });
});

afterAll(async () => {
  await Promise.all(started.map((box) => box.stop()));
  await rm(dir, { recursive: true, force: true });
});

test('reports the ports it actually bound when started on port 0', () => {
  expect(mailbox.smtpPort).toBeGreaterThan(0);
  expect(mailbox.httpPort).toBeGreaterThan(0);
  expect(mailbox.smtpUrl).toBe(`smtp://127.0.0.1:${mailbox.smtpPort}`);
  expect(mailbox.pageUrl).toBe(`http://127.0.0.1:${mailbox.httpPort}/`);
});

test('receives a message sent over SMTP with its subject, sender, recipients, text and html', async () => {
  const message = await mailbox.waitFor((m) => m.subject === SUBJECT, remainingMs());

  expect(message).toMatchObject({
    subject: SUBJECT,
    from: 'leadrelay <no-reply@leadrelay.local>',
    to: ['lead@example.com'],
    text: 'See you Tuesday at 10:00',
    html: HTML,
  });
  expect(message.headers['subject']).toBeDefined();
  expect(Date.parse(message.receivedAt)).not.toBeNaN();
});

test('waitFor resolves with a message that arrives after it was called', async () => {
  const waiting = mailbox.waitFor((m) => m.subject === 'Arrives later', remainingMs());
  await send(mailbox, { subject: 'Arrives later', to: 'later@example.com', text: 'hi' });

  await expect(waiting).resolves.toMatchObject({ subject: 'Arrives later', to: ['later@example.com'] });
});

test('waitFor rejects with an error naming what did arrive when nothing matches in time', async () => {
  await expect(mailbox.waitFor((m) => m.subject === 'Never sent', 50)).rejects.toThrow(
    /No matching mail arrived within 50 ms\. The mailbox has \d+ message\(s\)/,
  );
});

test('lists received mail newest first as JSON at /api/messages', async () => {
  const first = await mailbox.waitFor((m) => m.subject === SUBJECT, remainingMs());
  const later = await mailbox.waitFor((m) => m.subject === 'Arrives later', remainingMs());

  const response = await fetch(new URL('/api/messages', mailbox.pageUrl));
  const body = (await response.json()) as { messages: { id: string; subject: string }[] };

  expect(response.status).toBe(200);
  expect(body.messages.map((m) => m.id)).toEqual([later.id, first.id]);
  expect(body.messages[1]).toMatchObject({ subject: SUBJECT, html: HTML });
});

test('lists received mail on the page with the untrusted subject escaped', async () => {
  const message = await mailbox.waitFor((m) => m.subject === SUBJECT, remainingMs());

  const response = await fetch(mailbox.pageUrl);
  const page = await response.text();

  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(page).toContain(`href="/messages/${message.id}"`);
  expect(page).toContain('Tour booked &lt;script&gt;alert(1)&lt;/script&gt; &amp; confirmed');
  expect(page).not.toContain('<script');
});

test('shows a message page with its html part only inside a sandboxed iframe', async () => {
  const message = await mailbox.waitFor((m) => m.subject === SUBJECT, remainingMs());

  const response = await fetch(new URL(`/messages/${message.id}`, mailbox.pageUrl));
  const page = await response.text();

  expect(response.status).toBe(200);
  expect(page).toContain(
    '<iframe sandbox srcdoc="&lt;p class=&quot;mail-body&quot;&gt;See you &lt;b&gt;Tuesday&lt;/b&gt; at 10:00&lt;/p&gt;"',
  );
  expect(page).not.toContain('<p class="mail-body">');
  expect(page).toContain('<pre>See you Tuesday at 10:00</pre>');
  expect(page).not.toContain('<script');
});

test('answers unknown paths and unknown messages with a JSON 404', async () => {
  for (const pathname of ['/nope', '/messages/000000000-00000000']) {
    const response = await fetch(new URL(pathname, mailbox.pageUrl));

    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
  }
});

test('keeps received mail when a new mailbox is started over the same directory', async () => {
  const before = mailbox.messages();
  await mailbox.stop();

  mailbox = await start();

  expect(mailbox.messages()).toEqual(before);
  const page = await (await fetch(mailbox.pageUrl)).text();
  expect(page).toContain(`href="/messages/${before[0]?.id}"`);
});

test('DELETE /api/messages empties the mailbox, its page and its directory', async () => {
  const response = await fetch(new URL('/api/messages', mailbox.pageUrl), { method: 'DELETE' });

  expect(response.status).toBe(204);
  expect(mailbox.messages()).toEqual([]);
  const body = await (await fetch(new URL('/api/messages', mailbox.pageUrl))).json();
  expect(body).toEqual({ messages: [] });
  expect(await (await fetch(mailbox.pageUrl)).text()).toContain('No mail yet');
  expect((await readdir(dir)).filter((name) => name.endsWith('.json'))).toEqual([]);
});
