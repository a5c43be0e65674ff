// pino JSON logs; personal data (emails, phone numbers) is masked wherever it appears in a message.
import pino, { type Logger } from 'pino';

const EMAIL = /([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})/g;
const PHONE = /\+?\d[\d\s().-]{7,}\d/g;

/** Masks emails (j***@example.com) and phone numbers (***-1234) in a string. */
export function maskPersonalData(text: string): string {
  return text
    .replace(EMAIL, (_m, first: string, domain: string) => `${first}***@${domain}`)
    .replace(PHONE, (match) => `***${match.replace(/\D/g, '').slice(-4)}`);
}

/** Keys whose values never reach a log line: secrets, and the personal data the message masking can miss. */
const SECRET_KEYS = [
  'api_key',
  'apiKey',
  'password',
  'secret',
  'credentials',
  'access_token',
  'accessToken',
  'refresh_token',
  'refreshToken',
  'client_secret',
  'clientSecret',
  'auth_token',
  'authToken',
  'webhook_secret',
  'webhookSecret',
  'email',
  'phone',
];

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name,
    level,
    redact: {
      // Each key at the top of the log object and one level down (`{ lead: { email } }`).
      paths: ['req.headers.authorization', ...SECRET_KEYS, ...SECRET_KEYS.map((key) => `*.${key}`)],
      censor: '[redacted]',
    },
    serializers: {
      // Error messages often quote what failed ("no lead for ada@example.com"): masked like the message.
      err: (error: Error) => {
        const serialized = pino.stdSerializers.err(error);
        return {
          ...serialized,
          message: maskPersonalData(serialized.message),
          stack: maskPersonalData(serialized.stack),
        };
      },
    },
    hooks: {
      logMethod(args, method) {
        const masked = args.map((arg) => (typeof arg === 'string' ? maskPersonalData(arg) : arg));
        return method.apply(this, masked as Parameters<typeof method>);
      },
    },
  });
}
