// The codec endpoint of the Temporal Web UI and CLI (Temporal's remote codec protocol): POST /codec/decode and
// /codec/encode turn `{ payloads: [...] }` (proto3 JSON, base64 bytes) through the payload codec, for operators
// only, with CORS for the UI's origin. Operators prove themselves with the admin token, as a bearer token
// (CLI: --codec-auth) or as a session cookie set by signing in at GET /codec (the UI: "include credentials").
import { createHmac, timingSafeEqual } from 'node:crypto';
import express, { type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import {
  EncryptionCodec,
  PayloadDecryptionError,
  payloadFromJson,
  payloadToJson,
  type JsonPayload,
} from '../../../shared/codec';
import { requireKeyRing, type KeyRing } from '../../../shared/crypto';
import { AppError } from '../../../shared/errors';
import { endpoint } from '../../common/endpoints';

export interface CodecDeps {
  keyRing?: KeyRing;
  /** LEADRELAY_ADMIN_TOKEN: the operator token. Unset, nobody may decode. */
  adminToken?: string;
  /** The operator budget (services/api/auth.ts operatorRateLimit): the sign-in and the codec spend it. */
  operatorLimit: RequestHandler;
}

const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'base64');
const JsonPayloadSchema = z
  .object({
    metadata: z.record(z.string(), base64).optional().describe('metadata values, base64'),
    data: base64.optional().describe('payload bytes, base64'),
  })
  .meta({ id: 'CodecPayload' });
const CodecBody = z
  .object({ payloads: z.array(JsonPayloadSchema).max(10_000) })
  .meta({ id: 'CodecPayloads' });
const CodecSessionBody = z.object({
  token: z.string().min(1).max(1000).optional().describe('the admin token (or send it as a bearer token)'),
});

const SESSION_COOKIE = 'leadrelay_codec';
const SESSION_SECONDS = 12 * 60 * 60;
/** The UI asks for these in its preflight: JSON, the namespace, and (over https) its access token. */
const ALLOWED_HEADERS = 'Authorization, Content-Type, X-Namespace';

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
  `<title>${title}</title><style>body{font:16px system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}` +
  `input,button{font:inherit;padding:.5rem}input{width:100%;box-sizing:border-box;margin:.5rem 0}code{background:#eee;padding:0 .2rem}</style>` +
  `</head><body><h1>${title}</h1>${body}</body></html>`;
const PAGE_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

function equal(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A session is `<expiry>.<mac>`, the mac keyed by the admin token: changing the token ends every session. */
function sessionMac(adminToken: string, expires: number): string {
  return createHmac('sha256', adminToken).update(`leadrelay codec session ${expires}`).digest('base64url');
}

function cookieValue(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

function isHttps(req: Request): boolean {
  return req.protocol === 'https' || req.get('x-forwarded-proto')?.split(',')[0]?.trim() === 'https';
}

/** The browser origins of a Temporal UI URL; a loopback UI is reached as localhost or 127.0.0.1 alike. */
export function uiOrigins(uiUrl: string): string[] {
  const url = new URL(uiUrl);
  const origins = [url.origin];
  for (const [from, to] of [
    ['localhost', '127.0.0.1'],
    ['127.0.0.1', 'localhost'],
  ] as const) {
    if (url.hostname === from) origins.push(`${url.protocol}//${to}${url.port ? `:${url.port}` : ''}`);
  }
  return origins;
}

/** CORS: the UI's origins may call with credentials; a preflight is answered before any auth (it has none). */
export function codecCors(origins: string[]): RequestHandler {
  const allowedOrigins = new Set(origins);
  // Other origins get no CORS headers, so their browsers refuse the answer.
  return (req, res, next) => {
    res.vary('Origin');
    const origin = req.headers.origin;
    const allowed = origin !== undefined && allowedOrigins.has(origin);
    if (allowed) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    if (req.method !== 'OPTIONS') return next();
    if (allowed) {
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
    }
    res.status(204).end();
  };
}

export function codecEndpoints(deps: CodecDeps) {
  const bearer = (req: Request) => /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const validSession = (value: string | undefined) => {
    if (!value || !deps.adminToken) return false;
    const [expires, mac] = value.split('.');
    const at = Number(expires);
    return (
      Number.isInteger(at) && at * 1000 > Date.now() && equal(mac ?? '', sessionMac(deps.adminToken, at))
    );
  };
  const operatorOnly: RequestHandler = (req, _res, next) => {
    if (!deps.adminToken)
      return next(new AppError('unauthorized', 'LEADRELAY_ADMIN_TOKEN is not configured on this server'));
    const token = bearer(req);
    if ((token && equal(token, deps.adminToken)) || validSession(cookieValue(req, SESSION_COOKIE)))
      return next();
    next(
      new AppError(
        'unauthorized',
        'operator token required: Authorization: Bearer $LEADRELAY_ADMIN_TOKEN, or sign in at /codec',
      ),
    );
  };

  // Payloads can be large (Temporal allows 2 MB each, a third more in base64): a parser of its own.
  const json = express.json({ limit: '8mb', type: () => true });
  const convert = (direction: 'encode' | 'decode') =>
    endpoint({
      method: 'post',
      path: `/codec/${direction}`,
      tag: 'codec',
      ...(direction === 'decode'
        ? {
            summary: 'Decrypt Temporal payloads (remote codec protocol)',
            description:
              'Temporal\'s codec server protocol: `{ payloads: [...] }` as proto3 JSON (metadata values and data base64), answered in the same shape. Encrypted payloads (`encoding: binary/encrypted`) come back as they were before encryption; others pass through. Auth: the admin token as a bearer token (CLI `--codec-auth "Bearer …"`) or the session cookie of POST /codec/session. CORS: the Temporal UI\'s origin (TEMPORAL_UI_URL) may call with credentials; the UI sends `X-Namespace`.',
            responses: { 200: { description: 'the decoded payloads, in order', schema: CodecBody } },
          }
        : {
            summary: 'Encrypt Temporal payloads (remote codec protocol)',
            description:
              'The inverse of /codec/decode, for inputs the UI or CLI sends (start, signal): payloads come back encrypted with the first key of LEADRELAY_ENCRYPTION_KEYS.',
            responses: { 200: { description: 'the encrypted payloads, in order', schema: CodecBody } },
          }),
      auth: 'admin_token',
      guard: [deps.operatorLimit, operatorOnly],
      before: [json],
      body: CodecBody,
      async handler({ body }) {
        const codec = new EncryptionCodec(requireKeyRing(deps.keyRing));
        const payloads = body.payloads.map((p) => payloadFromJson(p as JsonPayload));
        let converted;
        try {
          converted = direction === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
        } catch (error) {
          if (!(error instanceof PayloadDecryptionError)) throw error;
          const index = await firstFailure(codec, payloads);
          throw new AppError('validation_failed', `payloads.${index}: ${error.message}`, {
            fields: [{ field: `payloads.${index}`, message: error.message }],
          });
        }
        return { payloads: converted.map(payloadToJson) };
      },
    });

  return [
    endpoint({
      method: 'get',
      path: '/codec',
      tag: 'codec',
      summary: 'Operator sign-in page of the codec endpoint',
      description:
        'A form taking the admin token; signing in sets a 12-hour session cookie the Temporal Web UI sends when its codec setting "Include cross-origin credentials" is on. See docs/codec.md.',
      auth: 'none',
      guard: [deps.operatorLimit],
      responses: { 200: { description: 'HTML page', html: true } },
      handler({ req, res }) {
        // Relative, so the page works behind a proxy that mounts the api under a prefix.
        const action = req.originalUrl.split('?')[0]!.endsWith('/') ? 'session' : 'codec/session';
        res
          .type('html')
          .setHeader('Content-Security-Policy', PAGE_POLICY)
          .send(
            page(
              'leadrelay codec: operator sign-in',
              '<p>Signing in lets the Temporal Web UI in this browser decrypt lead payloads through this endpoint ' +
                'for 12 hours. Paste the operator token (<code>LEADRELAY_ADMIN_TOKEN</code>; <code>npm start</code> ' +
                `prints it).</p><form method="post" action="${action}"><label>Operator token ` +
                '<input type="password" name="token" autocomplete="off" required></label>' +
                '<button type="submit">Sign in</button></form>',
            ),
          );
      },
    }),
    endpoint({
      method: 'post',
      path: '/codec/session',
      tag: 'codec',
      summary: 'Sign in to the codec endpoint (sets the session cookie)',
      description:
        'The admin token as the form field `token` (application/x-www-form-urlencoded or JSON) or as a bearer token. Answers an HTML page and `Set-Cookie: leadrelay_codec=…; Path=/codec; HttpOnly`.',
      auth: 'admin_token',
      // The token may come in the body: checked by the handler, after the operator budget is counted.
      guard: [deps.operatorLimit],
      before: [express.urlencoded({ extended: false, limit: '4kb' }), express.json({ limit: '4kb' })],
      body: CodecSessionBody,
      bodyOptional: true,
      responses: { 200: { description: 'signed in (HTML page)', html: true } },
      handler({ body, req, res }) {
        const token = body.token ?? bearer(req);
        if (!deps.adminToken)
          throw new AppError('unauthorized', 'LEADRELAY_ADMIN_TOKEN is not configured on this server');
        if (!token || !equal(token, deps.adminToken))
          throw new AppError('unauthorized', 'that is not the operator token (LEADRELAY_ADMIN_TOKEN)', {
            fields: [{ field: 'token', message: 'wrong or missing operator token' }],
          });
        const expires = Math.floor(Date.now() / 1000) + SESSION_SECONDS;
        // Same-site (the local UI on :8233 and the api on :8080 are one site) over http; over https the UI may sit
        // on another site, and CORS decides which origins may read the answers.
        const site = isHttps(req) ? 'SameSite=None; Secure' : 'SameSite=Strict';
        res.setHeader(
          'Set-Cookie',
          `${SESSION_COOKIE}=${expires}.${sessionMac(deps.adminToken, expires)}; Path=/codec; HttpOnly; Max-Age=${SESSION_SECONDS}; ${site}`,
        );
        res
          .type('html')
          .setHeader('Content-Security-Policy', PAGE_POLICY)
          .send(
            page(
              'Signed in',
              `<p>Until ${new Date(expires * 1000).toISOString()}. In the Temporal Web UI open the codec settings ` +
                '(the data encoder icon), use this endpoint and tick <b>Include cross-origin credentials</b>.</p>',
            ),
          );
      },
    }),
    convert('decode'),
    convert('encode'),
  ];
}

/** Which payload of a batch failed, for the error (the codec decodes a batch at once). */
async function firstFailure(codec: EncryptionCodec, payloads: ReturnType<typeof payloadFromJson>[]) {
  for (let i = 0; i < payloads.length; i++) {
    const ok = await codec.decode([payloads[i]!]).then(
      () => true,
      () => false,
    );
    if (!ok) return i;
  }
  return 0;
}
