// A local stand-in for Slack incoming webhooks: POST JSON to /services/<path> → 200 "ok"; Slack's plain-text
// errors (400 invalid_payload/no_text, 404 channel_not_found, 410 channel_is_archived) and scripted 429s.
import { Recorder, startSandboxServer, type SandboxServer } from './http';

export interface SlackPost {
  path: string;
  text: string;
  blocks?: unknown[];
}

export interface SlackSandbox extends SandboxServer {
  posts: Recorder<SlackPost>;
  /** A webhook URL on this sandbox for a channel name. */
  webhookUrl(channel: string): string;
  archived: Set<string>;
  /** Channels whose webhook answers 503 until removed (Slack having an outage for them). */
  down: Set<string>;
  /** Answers to give before the next successful ones (e.g. 429 with Retry-After). */
  failures: { status: number; body: string; retryAfterSeconds?: number }[];
}

export async function startSlackSandbox(port = 0): Promise<SlackSandbox> {
  const posts = new Recorder<SlackPost>();
  const archived = new Set<string>();
  const down = new Set<string>();
  const failures: SlackSandbox['failures'] = [];
  const answer = (
    res: import('node:http').ServerResponse,
    status: number,
    body: string,
    headers: Record<string, string> = {},
  ) => {
    res.writeHead(status, { 'content-type': 'text/plain', ...headers });
    res.end(body);
  };
  const server = await startSandboxServer((req, res, body) => {
    const path = req.url ?? '';
    if (req.method !== 'POST' || !path.startsWith('/services/')) return answer(res, 404, 'no_service');
    const channel = path.slice('/services/'.length);
    if (archived.has(channel)) return answer(res, 410, 'channel_is_archived');
    if (down.has(channel)) return answer(res, 503, 'service_unavailable');
    const failure = failures.shift();
    if (failure)
      return answer(
        res,
        failure.status,
        failure.body,
        failure.retryAfterSeconds !== undefined ? { 'retry-after': String(failure.retryAfterSeconds) } : {},
      );
    let payload: { text?: unknown; blocks?: unknown[] };
    try {
      payload = JSON.parse(body) as typeof payload;
    } catch {
      return answer(res, 400, 'invalid_payload');
    }
    if (typeof payload.text !== 'string' || payload.text === '') return answer(res, 400, 'no_text');
    posts.add({ path: channel, text: payload.text, blocks: payload.blocks });
    answer(res, 200, 'ok');
  }, port);
  return {
    ...server,
    posts,
    archived,
    down,
    failures,
    webhookUrl: (channel: string) => `${server.url}/services/${channel}`,
  };
}
