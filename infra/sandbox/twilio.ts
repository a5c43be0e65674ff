// A local stand-in for Twilio's Messages API (the subset we use): Basic auth with the account SID and auth
// token, form-encoded `To`, `Body`, `From` or `MessagingServiceSid`, Twilio's JSON errors (21610 opted out,
// 21211 invalid To, 20003 auth), scripted 429/5xx answers for retry tests, and status callbacks posted to a
// message's StatusCallback signed with X-Twilio-Signature as Twilio signs them.
import { randomBytes } from 'node:crypto';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { Recorder, startSandboxServer, type SandboxServer } from './http';

export interface SandboxSms {
  sid: string;
  to: string;
  from?: string;
  messagingServiceSid?: string;
  body: string;
  statusCallback?: string;
}

export interface TwilioSandbox extends SandboxServer {
  accountSid: string;
  authToken: string;
  messages: Recorder<SandboxSms>;
  /** Recipients who replied STOP: sending to them answers 21610. */
  optedOut: Set<string>;
  /** Answers to give before the next successful ones, in order (e.g. a 429 with Retry-After). */
  failures: { status: number; code: number; message: string; retryAfterSeconds?: number }[];
  /** While set, accepted messages wait for it before the answer (a slow provider). */
  hold?: Promise<void>;
  /**
   * Statuses posted to an accepted message's StatusCallback, in order, each once the previous was answered (none by
   * default). `before`: posted before the send is answered — Twilio's callback outrunning the sender's record.
   */
  statusCallbacks?: { statuses: string[]; errorCode?: string; before?: boolean };
  /** Answers the StatusCallback URL gave (status codes), in order. */
  callbackAnswers: number[];
}

export async function startTwilioSandbox(
  options: { accountSid?: string; authToken?: string; port?: number } = {},
): Promise<TwilioSandbox> {
  const accountSid = options.accountSid ?? `AC${randomBytes(16).toString('hex')}`;
  const authToken = options.authToken ?? randomBytes(16).toString('hex');
  const messages = new Recorder<SandboxSms>();
  const optedOut = new Set<string>();
  const failures: TwilioSandbox['failures'] = [];
  const error = (
    res: import('node:http').ServerResponse,
    status: number,
    code: number,
    message: string,
    headers: Record<string, string> = {},
  ) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(
      JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }),
    );
  };
  const callbackAnswers: number[] = [];
  const sandbox: Pick<TwilioSandbox, 'hold' | 'statusCallbacks'> = {};
  /** Posts each status of `statusCallbacks` for a message, form-encoded and signed as Twilio does. */
  const postCallbacks = async (message: SandboxSms) => {
    const plan = sandbox.statusCallbacks;
    if (!plan || !message.statusCallback) return;
    for (const status of plan.statuses) {
      const params: Record<string, string> = {
        AccountSid: accountSid,
        ApiVersion: '2010-04-01',
        MessageSid: message.sid,
        SmsSid: message.sid,
        MessageStatus: status,
        SmsStatus: status,
        To: message.to,
        From: message.from ?? '',
        ...(plan.errorCode && status !== 'sent' ? { ErrorCode: plan.errorCode } : {}),
      };
      const response = await fetch(message.statusCallback, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': getExpectedTwilioSignature(authToken, message.statusCallback, params),
        },
        body: new URLSearchParams(params).toString(),
      });
      await response.arrayBuffer();
      callbackAnswers.push(response.status);
    }
  };
  const server = await startSandboxServer(async (req, res, body) => {
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match)
      return error(res, 404, 20404, 'The requested resource was not found');
    const expected = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
    if (req.headers.authorization !== expected || match[1] !== accountSid) {
      return error(res, 401, 20003, 'Authentication Error - invalid username');
    }
    const failure = failures.shift();
    if (failure) {
      return error(
        res,
        failure.status,
        failure.code,
        failure.message,
        failure.retryAfterSeconds !== undefined ? { 'retry-after': String(failure.retryAfterSeconds) } : {},
      );
    }
    const form = new URLSearchParams(body);
    const to = form.get('To') ?? '';
    const text = form.get('Body') ?? '';
    if (!/^\+[1-9]\d{6,14}$/.test(to))
      return error(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (!form.get('From') && !form.get('MessagingServiceSid'))
      return error(res, 400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required");
    if (!text) return error(res, 400, 21602, 'Message body is required.');
    if (optedOut.has(to)) return error(res, 400, 21610, 'Attempt to send to unsubscribed recipient');
    await sandbox.hold;
    const sid = `SM${randomBytes(16).toString('hex')}`;
    const message: SandboxSms = {
      sid,
      to,
      body: text,
      from: form.get('From') ?? undefined,
      messagingServiceSid: form.get('MessagingServiceSid') ?? undefined,
      statusCallback: form.get('StatusCallback') ?? undefined,
    };
    messages.add(message);
    if (sandbox.statusCallbacks?.before) await postCallbacks(message);
    else setImmediate(() => void postCallbacks(message).catch(() => undefined));
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        sid,
        account_sid: accountSid,
        to,
        from: form.get('From'),
        body: text,
        status: 'queued',
        num_segments: '1',
        date_created: new Date().toUTCString(),
      }),
    );
  }, options.port);
  return Object.assign(sandbox, {
    ...server,
    accountSid,
    authToken,
    messages,
    optedOut,
    failures,
    callbackAnswers,
  });
}
