import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadConfig, publicUrls, variables } from '../../shared/config';

describe('configuration', () => {
  test('defaults every variable of SPEC section 2 when the environment is empty', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: 'leads',
      API_PORT: 8080,
      INGEST_PORT: 8081,
      LOG_LEVEL: 'info',
    });
    expect(config.TEMPORAL_ADDRESS).toBeUndefined();
    expect(config.DATABASE_URL).toBeUndefined();
  });

  test('knows every variable name the contract lists', () => {
    for (const name of [
      'TEMPORAL_ADDRESS',
      'TEMPORAL_NAMESPACE',
      'TEMPORAL_TASK_QUEUE',
      'DATABASE_URL',
      'SMTP_URL',
      'MAIL_FROM',
      'TWILIO_ACCOUNT_SID',
      'TWILIO_AUTH_TOKEN',
      'TWILIO_FROM',
      'TWILIO_API_BASE_URL',
      'SLACK_WEBHOOK_URL',
      'API_PORT',
      'INGEST_PORT',
      'PUBLIC_BASE_URL',
      'LEADRELAY_ADMIN_TOKEN',
      'LEADRELAY_ENCRYPTION_KEYS',
      'LOG_LEVEL',
    ]) {
      expect(Object.keys(variables)).toContain(name);
    }
  });

  test.each([
    ['API_PORT', 'abc', 'API_PORT must be a TCP port number (1-65535); got "abc"'],
    ['INGEST_PORT', '70000', 'INGEST_PORT must be a TCP port number'],
    ['DATABASE_URL', 'mysql://x', 'DATABASE_URL must be a postgres:// connection URL'],
    ['TEMPORAL_ADDRESS', 'localhost', 'TEMPORAL_ADDRESS must be host:port'],
    ['TWILIO_ACCOUNT_SID', 'AB123', 'TWILIO_ACCOUNT_SID must be a Twilio account SID'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL must be one of fatal, error'],
    [
      'LEADRELAY_ENCRYPTION_KEYS',
      'short',
      'LEADRELAY_ENCRYPTION_KEYS must be comma-separated id:base64 keys',
    ],
    ['SMTP_URL', 'http://mail', 'SMTP_URL must be an smtp:// or smtps:// URL'],
  ])('refuses %s=%s with one line naming the variable and the expected form', (name, value, expected) => {
    expect(() => loadConfig({ [name]: value })).toThrow(expected);
  });

  test('accepts well-formed values and treats empty strings as unset', () => {
    const config = loadConfig({
      TEMPORAL_ADDRESS: '10.0.0.5:7233',
      DATABASE_URL: 'postgres://u:p@db:5432/leadrelay',
      LEADRELAY_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')},k0:${Buffer.alloc(32, 2).toString('base64')}`,
      SMTP_URL: '',
    });
    expect(config.TEMPORAL_ADDRESS).toBe('10.0.0.5:7233');
    expect(config.SMTP_URL).toBeUndefined();
  });

  test('public URLs default to each service on localhost and share PUBLIC_BASE_URL when set', () => {
    expect(publicUrls(loadConfig({}))).toEqual({
      api: 'http://localhost:8080',
      ingest: 'http://localhost:8081',
    });
    expect(publicUrls(loadConfig({ PUBLIC_BASE_URL: 'https://leads.example.com/' }))).toEqual({
      api: 'https://leads.example.com',
      ingest: 'https://leads.example.com',
    });
  });

  test('a service started with a bad value exits 2 printing exactly one line', () => {
    let failure: { status: number; stderr: string } | undefined;
    try {
      execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, '../../services/api/main.ts')], {
        env: { ...process.env, API_PORT: 'eighty' },
        stdio: 'pipe',
      });
    } catch (error) {
      const e = error as { status: number; stderr: Buffer };
      failure = { status: e.status, stderr: e.stderr.toString() };
    }
    expect(failure?.status).toBe(2);
    expect(failure?.stderr.trim().split('\n')).toEqual([
      'leadrelay: invalid configuration: API_PORT must be a TCP port number (1-65535); got "eighty"',
    ]);
  });
});
