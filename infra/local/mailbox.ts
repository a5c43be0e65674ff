// Local mailbox: the SMTP server the start command and tests send mail to instead of a real one, with a page to read it.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import path from 'node:path';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

export interface MailboxMessage {
  id: string;
  receivedAt: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html?: string;
  headers: Record<string, string>;
}

export interface Mailbox {
  smtpUrl: string;
  pageUrl: string;
  smtpPort: number;
  httpPort: number;
  /** Newest first. */
  messages(): MailboxMessage[];
  /** Resolves with the newest matching message, already received or still to come. */
  waitFor(predicate: (m: MailboxMessage) => boolean, timeoutMs?: number): Promise<MailboxMessage>;
  clear(): Promise<void>;
  stop(): Promise<void>;
}

const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;
const DEFAULT_WAIT_MS = 10_000;
// Ids start with a strictly increasing millisecond count, so sorting ids sorts by arrival even for
// mail received within the same millisecond or reloaded from disk; the random tail keeps two
// mailboxes sharing a directory from colliding.
const ID_PATTERN = /^[0-9a-z]{9}-[0-9a-f]{8}$/;
const FILE_PATTERN = /^([0-9a-z]{9}-[0-9a-f]{8})\.json$/;

export async function startMailbox(options: {
  smtpPort: number;
  httpPort: number;
  host?: string;
  dir?: string;
  maxMessages?: number;
}): Promise<Mailbox> {
  const host = options.host ?? '127.0.0.1';
  const maxMessages = options.maxMessages ?? 1000;
  if (!Number.isInteger(maxMessages) || maxMessages < 1) {
    throw new RangeError(`maxMessages must be a positive integer, got ${maxMessages}`);
  }
  const dir = options.dir === undefined ? undefined : path.resolve(options.dir);
  const fileOf = (id: string) => path.join(dir ?? '', `${id}.json`);

  // Oldest first, so arrivals append and the overflow comes off the front.
  const store: MailboxMessage[] = dir ? await loadMessages(dir, maxMessages) : [];
  let lastIdMs = store.reduce((max, m) => Math.max(max, parseInt(m.id.slice(0, 9), 36)), 0);
  const nextId = () => {
    lastIdMs = Math.max(Date.now(), lastIdMs + 1);
    return `${lastIdMs.toString(36).padStart(9, '0')}-${randomBytes(4).toString('hex')}`;
  };
  const newestFirst = () => store.slice().reverse();

  // One file operation at a time, in call order: removing a message's file must never overtake the
  // write of that file, or a cleared or dropped message would come back at the next start.
  let disk: Promise<unknown> = Promise.resolve();
  const onDisk = <T>(operation: () => Promise<T>): Promise<T> => {
    const run = disk.then(operation);
    disk = run.catch(() => undefined);
    return run;
  };

  interface Waiter {
    offer(message: MailboxMessage): void;
    abort(error: Error): void;
  }
  const waiters = new Set<Waiter>();
  let stopping: Promise<void> | undefined;

  async function receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<void> {
    const raw = await readWithinLimit(stream);
    // rejectOversized makes the server answer 552 whatever we report; just don't keep it.
    if (raw === undefined) return;
    let parsed: ParsedMail;
    try {
      parsed = await simpleParser(raw);
    } catch (error) {
      throw smtpError(554, `Message could not be parsed: ${errorText(error)}`);
    }
    const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const message = frozen({
      id: nextId(),
      receivedAt: new Date().toISOString(),
      from: formatAddresses(parsed.from) || envelopeFrom,
      // The envelope, not the To header: it is who the mail was actually delivered to, Cc and Bcc included.
      to: session.envelope.rcptTo.map((r) => r.address),
      subject: parsed.subject ?? '',
      text: parsed.text ?? '',
      ...(typeof parsed.html === 'string' ? { html: parsed.html } : {}),
      headers: headersOf(parsed),
    });
    if (dir) {
      try {
        await onDisk(() => writeMessage(fileOf(message.id), message));
      } catch (error) {
        // A temporary failure makes a real sender retry instead of believing the mail was delivered.
        throw smtpError(451, `Mailbox could not store the message: ${errorText(error)}`);
      }
    }
    store.push(message);
    for (const dropped of store.splice(0, Math.max(0, store.length - maxMessages))) {
      if (dir) onDisk(() => rm(fileOf(dropped.id), { force: true })).catch(() => undefined);
    }
    for (const waiter of [...waiters]) waiter.offer(message);
  }

  const smtp = new SMTPServer({
    authOptional: true,
    // Without TLS, smtp-server refuses AUTH unless told otherwise; clients configured with
    // credentials for the real server must still be able to send here.
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    size: MAX_MESSAGE_BYTES,
    rejectOversized: true,
    logger: false,
    banner: 'local mailbox',
    // Short, so stopping the start command doesn't hang on a client that keeps its connection open.
    closeTimeout: 1000,
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username ?? 'anonymous' });
    },
    onData(stream, session, callback) {
      receive(stream, session).then(
        () => callback(),
        (error: Error) => callback(error),
      );
    },
  });
  // Connection-level errors (a client hanging up mid-session) arrive here; they must not take the
  // process down. Listen errors are reported by listen() below.
  smtp.on('error', () => undefined);

  let smtpUrl = '';
  const loopbackOnly = isLoopbackHost(host.includes(':') ? `[${host}]` : host);
  const web = http.createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      sendJson(res, 500, { error: { code: 'internal', message: errorText(error) } });
    });
  });

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (loopbackOnly && !isLoopbackHost(req.headers.host)) {
      // A web page rebinding its own domain to 127.0.0.1 could otherwise read every mail here.
      return sendJson(res, 403, {
        error: { code: 'forbidden_host', message: 'Open the mailbox via localhost.' },
      });
    }
    const { pathname } = new URL(req.url ?? '/', 'http://mailbox.invalid');
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const messageId = /^\/messages\/([^/]+)$/.exec(pathname)?.[1];

    if (pathname === '/') {
      if (method !== 'GET') return notAllowed(res, 'GET, HEAD');
      return sendPage(res, 200, listPage(newestFirst(), smtpUrl));
    }
    if (messageId !== undefined) {
      if (method !== 'GET') return notAllowed(res, 'GET, HEAD');
      const message = store.find((m) => m.id === messageId);
      if (!message) return notFound(res, `No message with id ${messageId}.`);
      return sendPage(res, 200, messagePage(message));
    }
    if (pathname === '/api/messages') {
      if (method === 'GET') return sendJson(res, 200, { messages: newestFirst() });
      if (method === 'DELETE') {
        await mailbox.clear();
        res.writeHead(204, { 'cache-control': 'no-store' }).end();
        return;
      }
      return notAllowed(res, 'GET, HEAD, DELETE');
    }
    return notFound(res, `Nothing at ${pathname}.`);
  }

  const smtpPort = await listen(smtp.server, options.smtpPort, host);
  let httpPort: number;
  try {
    httpPort = await listen(web, options.httpPort, host);
  } catch (error) {
    await new Promise<void>((resolve) => smtp.close(resolve));
    throw error;
  }
  // A wildcard address is where we listen, not somewhere a client can connect to.
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const urlHost = reachable.includes(':') ? `[${reachable}]` : reachable;
  smtpUrl = `smtp://${urlHost}:${smtpPort}`;

  const mailbox: Mailbox = {
    smtpUrl,
    pageUrl: `http://${urlHost}:${httpPort}/`,
    smtpPort,
    httpPort,
    messages: newestFirst,
    waitFor(predicate, timeoutMs = DEFAULT_WAIT_MS) {
      return new Promise<MailboxMessage>((resolve, reject) => {
        try {
          const existing = newestFirst().find(predicate);
          if (existing) return resolve(existing);
        } catch (error) {
          return reject(error);
        }
        if (stopping) return reject(new Error('Mailbox is stopped: no more mail will arrive.'));
        const settle = () => {
          clearTimeout(timer);
          waiters.delete(waiter);
        };
        const waiter: Waiter = {
          offer(message) {
            try {
              if (!predicate(message)) return;
            } catch (error) {
              settle();
              return reject(error);
            }
            settle();
            resolve(message);
          },
          abort(error) {
            settle();
            reject(error);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(`No matching mail arrived within ${timeoutMs} ms. ${describeInbox(newestFirst())}`),
          );
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    async clear() {
      const removed = store.splice(0);
      if (dir) await onDisk(() => Promise.all(removed.map((m) => rm(fileOf(m.id), { force: true }))));
    },
    stop() {
      stopping ??= (async () => {
        const stopped = new Error('Mailbox stopped before matching mail arrived.');
        for (const waiter of [...waiters]) waiter.abort(stopped);
        await Promise.all([
          new Promise<void>((resolve) => smtp.close(resolve)),
          new Promise<void>((resolve, reject) => {
            web.close((error) => (error ? reject(error) : resolve()));
            // Keep-alive connections (fetch keeps them) would otherwise hold close() for seconds.
            web.closeIdleConnections();
          }),
        ]);
        await disk;
      })();
      return stopping;
    },
  };
  return mailbox;
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  server.listen(port, host);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** The message bytes, or undefined once it went over the size limit (those bytes are drained, not kept). */
function readWithinLimit(stream: SMTPServerDataStream): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => {
      if (stream.sizeExceeded) chunks = [];
      else chunks.push(chunk);
    });
    stream.once('end', () => resolve(stream.sizeExceeded ? undefined : Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** Raw header values (folding undone), keyed by lower-case name; repeated headers joined by newlines. */
function headersOf(parsed: ParsedMail): Record<string, string> {
  const headers = new Map<string, string>();
  for (const { key, line } of parsed.headerLines) {
    const value = line
      .slice(line.indexOf(':') + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
    const previous = headers.get(key);
    headers.set(key, previous === undefined ? value : `${previous}\n${value}`);
  }
  // fromEntries defines own properties, so a header named __proto__ stays a plain key.
  return Object.fromEntries(headers);
}

/** `Name <address>` as senders write it; mailparser's own text form quotes every name. */
function formatAddresses(addresses: AddressObject | undefined): string {
  return (addresses?.value ?? [])
    .map(({ name, address }) => (name && address ? `${name} <${address}>` : name || address || ''))
    .filter(Boolean)
    .join(', ');
}

async function writeMessage(file: string, message: MailboxMessage): Promise<void> {
  // Write then rename: a crash mid-write leaves a stray .tmp file, never a truncated message.
  const temporary = `${file}.tmp`;
  await writeFile(temporary, JSON.stringify(message));
  await rename(temporary, file);
}

async function loadMessages(dir: string, maxMessages: number): Promise<MailboxMessage[]> {
  await mkdir(dir, { recursive: true });
  const loaded: MailboxMessage[] = [];
  for (const name of await readdir(dir)) {
    const id = FILE_PATTERN.exec(name)?.[1];
    if (id === undefined) continue;
    try {
      const value: unknown = JSON.parse(await readFile(path.join(dir, name), 'utf8'));
      if (!isMessage(value) || value.id !== id) throw new Error('not a mailbox message');
      loaded.push(frozen(value));
    } catch (error) {
      // Left in place: it may be someone's file, and one bad file must not cost the rest of the mail.
      process.emitWarning(`Mailbox skipped ${path.join(dir, name)}: ${errorText(error)}`);
    }
  }
  loaded.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const dropped = loaded.splice(0, Math.max(0, loaded.length - maxMessages));
  await Promise.all(dropped.map((m) => rm(path.join(dir, `${m.id}.json`), { force: true })));
  return loaded;
}

// Callers get the stored objects themselves, so they must not be able to edit what the page shows.
function frozen(message: MailboxMessage): MailboxMessage {
  Object.freeze(message.to);
  Object.freeze(message.headers);
  return Object.freeze(message);
}

function isMessage(value: unknown): value is MailboxMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  const isStringRecord = (v: unknown) =>
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.values(v).every((x) => typeof x === 'string');
  return (
    typeof m.id === 'string' &&
    ID_PATTERN.test(m.id) &&
    typeof m.receivedAt === 'string' &&
    typeof m.from === 'string' &&
    Array.isArray(m.to) &&
    m.to.every((x) => typeof x === 'string') &&
    typeof m.subject === 'string' &&
    typeof m.text === 'string' &&
    (m.html === undefined || typeof m.html === 'string') &&
    isStringRecord(m.headers)
  );
}

function isLoopbackHost(hostHeader: string | undefined): boolean {
  // HTTP/1.0 clients may omit Host; browsers, the only rebinding vector, never do.
  if (hostHeader === undefined) return true;
  const name = hostHeader.replace(/:\d*$/, '').toLowerCase();
  return (
    name === 'localhost' ||
    name.endsWith('.localhost') ||
    name === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)
  );
}

function describeInbox(messages: MailboxMessage[]): string {
  if (messages.length === 0) return 'The mailbox is empty.';
  const latest = messages
    .slice(0, 5)
    .map((m) => `"${m.subject}" to ${m.to.join(', ')}`)
    .join('; ');
  return `The mailbox has ${messages.length} message(s), latest: ${latest}.`;
}

function smtpError(responseCode: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---- HTTP responses

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res
    .writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    })
    .end(JSON.stringify(body));
}

function notFound(res: http.ServerResponse, message: string): void {
  sendJson(res, 404, { error: { code: 'not_found', message } });
}

function notAllowed(res: http.ServerResponse, allow: string): void {
  res.setHeader('allow', allow);
  sendJson(res, 405, { error: { code: 'method_not_allowed', message: `Use ${allow}.` } });
}

function sendPage(res: http.ServerResponse, status: number, body: string): void {
  res
    .writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      // A second line of defence behind escaping and the sandbox; srcdoc frames inherit it.
      'content-security-policy': "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'",
    })
    .end(body);
}

// ---- HTML: everything interpolated into `markup` is escaped unless it is already Markup.

class Markup {
  constructor(readonly html: string) {}
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function render(value: unknown): string {
  if (value instanceof Markup) return value.html;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function markup(strings: TemplateStringsArray, ...values: unknown[]): Markup {
  let html = strings[0] ?? '';
  values.forEach((value, i) => (html += render(value) + (strings[i + 1] ?? '')));
  return new Markup(html);
}

const STYLE = new Markup(`
:root { color-scheme: light dark; font: 16px/1.5 system-ui, sans-serif; }
body { margin: 0 auto; max-width: 60rem; padding: 1rem; }
a { color: inherit; }
h1 { font-size: 1.4rem; margin: 0.5rem 0; overflow-wrap: anywhere; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 0.5rem; }
.muted { opacity: 0.7; }
.mail { list-style: none; margin: 1rem 0; padding: 0; }
.mail li { border-top: 1px solid #8884; }
.mail a { display: grid; grid-template-columns: 1fr auto; gap: 0 1rem; padding: 0.6rem 0.25rem; text-decoration: none; }
.mail a:hover, .mail a:focus { background: #8882; }
.subject { font-weight: 600; overflow-wrap: anywhere; }
.people { grid-column: 1 / -1; overflow-wrap: anywhere; }
time { white-space: nowrap; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; margin: 0; }
dt { font-weight: 600; }
dd { margin: 0; overflow-wrap: anywhere; white-space: pre-wrap; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #8881; padding: 0.75rem; margin: 0; }
iframe { width: 100%; height: 70vh; border: 1px solid #8884; background: #fff; }
@media (max-width: 40rem) {
  .mail a { grid-template-columns: 1fr; }
  dl { grid-template-columns: 1fr; }
  dd { margin-bottom: 0.5rem; }
}
`);

function layout(title: string, body: Markup): string {
  return (
    '<!doctype html>\n' +
    markup`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`.html
  );
}

/** Server-local time: the mailbox runs on the developer's machine. */
function formatTime(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function listPage(messages: MailboxMessage[], smtpUrl: string): string {
  const items = messages.map(
    (m) => markup`<li><a href="/messages/${m.id}">
<span class="subject">${m.subject || '(no subject)'}</span>
<time datetime="${m.receivedAt}">${formatTime(m.receivedAt)}</time>
<span class="people muted">From ${m.from || '(unknown)'} to ${m.to.join(', ')}</span>
</a></li>`,
  );
  const count = messages.length === 1 ? '1 message' : `${messages.length} messages`;
  return layout(
    'Mailbox',
    markup`<h1>Mailbox</h1>
<p class="muted">${count} · receiving at ${smtpUrl}</p>
${messages.length > 0 ? markup`<ol class="mail">${items}</ol>` : markup`<p>No mail yet.</p>`}`,
  );
}

function messagePage(m: MailboxMessage): string {
  const subject = m.subject || '(no subject)';
  const headers = Object.entries(m.headers).map(([name, value]) => markup`<dt>${name}</dt><dd>${value}</dd>`);
  return layout(
    subject,
    markup`<p><a href="/">← All mail</a></p>
<h1>${subject}</h1>
<dl>
<dt>From</dt><dd>${m.from || '(unknown)'}</dd>
<dt>To</dt><dd>${m.to.join(', ')}</dd>
<dt>Received</dt><dd><time datetime="${m.receivedAt}">${formatTime(m.receivedAt)}</time></dd>
</dl>
${
  m.html === undefined
    ? ''
    : markup`<h2>HTML part</h2>
<iframe sandbox srcdoc="${m.html}" title="HTML part of the message"></iframe>`
}
<h2>Text part</h2>
${m.text ? markup`<pre>${m.text}</pre>` : markup`<p class="muted">No text part.</p>`}
<h2>Headers</h2>
<dl>${headers}</dl>`,
  );
}
