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

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        '*.api_key',
        '*.apiKey',
        '*.password',
        '*.secret',
        '*.credentials',
        '*.email',
        '*.phone',
      ],
      censor: '[redacted]',
    },
    hooks: {
      logMethod(args, method) {
        const masked = args.map((arg) => (typeof arg === 'string' ? maskPersonalData(arg) : arg));
        return method.apply(this, masked as Parameters<typeof method>);
      },
    },
  });
}
