// shared/logger.ts: what a log line may never show (emails, phone numbers, credentials), checked on the JSON
// a real process prints (pino writes straight to its stdout file descriptor).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const LOGGER = join(__dirname, '../../shared/logger.ts');

/** Runs `body` in a fresh Node process with `log` = createLogger('test') and returns its log lines. */
function logLines(body: string): Record<string, any>[] {
  const script = `const { createLogger } = require(${JSON.stringify(LOGGER)}); const log = createLogger('test', 'info');\n${body}`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], {
    env: { ...process.env, LOG_LEVEL: 'info' },
    stdio: 'pipe',
  }).toString();
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

const SECRETS = [
  'ada.lovelace@example.com',
  'grace@example.org',
  '+13035550170',
  '303-555-0170',
  '(303) 555 0171',
  'hunter2',
  'sk_live_abc123',
  'whsec_s3cr3t',
  'AC0123456789abcdef',
];

test('a log line with an email, a phone and a credentials object prints none of them', () => {
  const lines = logLines(`
    log.info(
      {
        email: 'ada.lovelace@example.com',
        phone: '+13035550170',
        credentials: { api_key: 'sk_live_abc123', password: 'hunter2', account_sid: 'AC0123456789abcdef' },
        lead: { id: 'lead-1', email: 'grace@example.org', phone: '303-555-0170', credentials: { token: 'whsec_s3cr3t' } },
        integration: { secret: 'whsec_s3cr3t', apiKey: 'sk_live_abc123' },
      },
      'called ada.lovelace@example.com back at (303) 555 0171',
    );
    log.warn('retrying grace@example.org on +13035550170');
    log.error({ err: new Error('no lead for ada.lovelace@example.com (303-555-0170)') }, 'lookup failed');
  `);
  expect(lines).toHaveLength(3);
  const printed = JSON.stringify(lines);
  for (const secret of SECRETS) expect(printed).not.toContain(secret);

  // What is left says what happened without saying who.
  const [first, second, third] = lines;
  expect(first).toMatchObject({
    msg: 'called a***@example.com back at (***0171',
    email: '[redacted]',
    phone: '[redacted]',
    credentials: '[redacted]',
    lead: { id: 'lead-1', email: '[redacted]', phone: '[redacted]', credentials: '[redacted]' },
    integration: { secret: '[redacted]', apiKey: '[redacted]' },
  });
  expect(second!.msg).toBe('retrying g***@example.org on ***0170');
  expect(third!.err.message).toBe('no lead for a***@example.com (***0170)');
  expect(third!.err.stack).toContain('no lead for a***@example.com');
});

test('an Authorization header logged with a request is redacted', () => {
  const [line] = logLines(
    `log.info({ req: { method: 'GET', headers: { authorization: 'Bearer lr_secret_key' } } }, 'request');`,
  );
  expect(JSON.stringify(line)).not.toContain('lr_secret_key');
  expect(line!.req).toEqual({ method: 'GET', headers: { authorization: '[redacted]' } });
});

test('OAuth tokens, client secrets and webhook secrets are redacted wherever a partner call logs them', () => {
  const [line] = logLines(`
    log.warn(
      {
        access_token: 'ya29.tok3n',
        partner: { refresh_token: 'rt_r3fresh', client_secret: 'cs_cl13nt', webhook_secret: 'whsec_w3bh00k' },
        twilio: { auth_token: 'at_twil10' },
        integration: { webhookSecret: 'whsec_camel', accessToken: 'ya29.camel' },
      },
      'token refreshed',
    );
  `);
  const printed = JSON.stringify(line);
  for (const secret of [
    'ya29.tok3n',
    'rt_r3fresh',
    'cs_cl13nt',
    'whsec_w3bh00k',
    'at_twil10',
    'whsec_camel',
    'ya29.camel',
  ]) {
    expect(printed).not.toContain(secret);
  }
  expect(line).toMatchObject({
    access_token: '[redacted]',
    partner: { refresh_token: '[redacted]', client_secret: '[redacted]', webhook_secret: '[redacted]' },
    twilio: { auth_token: '[redacted]' },
  });
});
