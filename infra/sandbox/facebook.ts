// A local stand-in for the part of Facebook's Graph API that Lead Ads integrations read: GET /<version>/<leadgen_id>
// with a page access token (Bearer header or `access_token` query), answering the lead with its `field_data`, and
// Graph's error bodies (`{ error: { message, type, code, error_subcode, fbtrace_id } }`, HTTP 400): 190 for an
// expired or invalid token, 100 for an unknown id, 4/17/613 for throttling. It also builds the signed `leadgen`
// notification Facebook would send for a lead. State is in memory; faults and `down` come from ./partner.
import { createHmac, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { send, startPartnerSandbox, type PartnerSandbox } from './partner';

export interface GraphLead {
  id: string;
  created_time: string;
  ad_id?: string;
  form_id: string;
  platform?: string;
  is_organic?: boolean;
  field_data: { name: string; values: string[] }[];
}

export interface FacebookSandbox extends PartnerSandbox {
  pageId: string;
  appSecret: string;
  verifyToken: string;
  /** The page access token the Graph API accepts (`expireToken` makes it fail with code 190). */
  pageAccessToken: string;
  leads: Map<string, GraphLead>;
  /** A lead as a form submission creates it: `answers` name → value, e.g. { email, phone_number, full_name }. */
  addLead(answers: Record<string, string>, extra?: Partial<GraphLead>): GraphLead;
  /** The token expires (Facebook: code 190, subcode 463) until `renewToken` issues a new one. */
  expireToken(): void;
  renewToken(): string;
  /** The `leadgen` notification Facebook posts for a lead, and its X-Hub-Signature-256 header. */
  notification(lead: GraphLead): { body: string; headers: Record<string, string> };
  /** That notification as a received webhook request (what an inbound adapter verifies and parses). */
  notificationRequest(lead: GraphLead): {
    method: string;
    rawBody: Buffer;
    headers: Record<string, string>;
    query: Record<string, string>;
    urls: string[];
    now: Date;
  };
}

const digits = (n: number) => Array.from(randomBytes(n), (b) => String(b % 10)).join('');

function graphError(
  res: ServerResponse,
  status: number,
  error: { message: string; type?: string; code: number; error_subcode?: number; is_transient?: boolean },
  headers: Record<string, string> = {},
): void {
  send(
    res,
    status,
    { error: { type: 'OAuthException', ...error, fbtrace_id: randomBytes(8).toString('base64url') } },
    headers,
  );
}

export async function startFacebookSandbox(options: { port?: number } = {}): Promise<FacebookSandbox> {
  const pageId = digits(15);
  const appSecret = randomBytes(16).toString('hex');
  const leads = new Map<string, GraphLead>();
  let token = `EAAB${randomBytes(24).toString('base64url')}`;
  let expired = false;

  const sandbox = await startPartnerSandbox({
    port: options.port,
    // Scripted faults in Graph's own shape: 5xx are transient (code 2), anything else is throttling (code 4).
    errorBody: (status, message) => ({
      contentType: 'application/json',
      body: JSON.stringify({
        error: {
          message,
          type: 'OAuthException',
          code: status >= 500 ? 2 : 4,
          is_transient: true,
          fbtrace_id: randomBytes(8).toString('base64url'),
        },
      }),
    }),
    handle({ req, res, url }) {
      const match = /^\/(v\d{1,2}\.\d)\/(\d{1,30})$/.exec(url.pathname);
      if (req.method !== 'GET' || !match) {
        return graphError(res, 400, {
          message: `Unknown path components: ${url.pathname}`,
          code: 2500,
        });
      }
      const bearer = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
      const given = bearer ?? url.searchParams.get('access_token');
      if (!given) {
        return graphError(res, 400, {
          message: 'An active access token must be used to query information about the current user.',
          code: 2500,
        });
      }
      if (given !== token || expired) {
        return graphError(
          res,
          400,
          expired && given === token
            ? {
                message: 'Error validating access token: Session has expired.',
                code: 190,
                error_subcode: 463,
              }
            : { message: 'Invalid OAuth access token - Cannot parse access token', code: 190 },
          { 'www-authenticate': 'OAuth "Facebook Platform" "invalid_token" "Invalid OAuth access token"' },
        );
      }
      const lead = leads.get(match[2]!);
      if (!lead) {
        return graphError(res, 400, {
          message: `Unsupported get request. Object with ID '${match[2]}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
          type: 'GraphMethodException',
          code: 100,
          error_subcode: 33,
        });
      }
      // `fields` picks what to answer; without it Graph answers its default fields.
      const fields = url.searchParams.get('fields')?.split(',') ?? ['created_time', 'id', 'field_data'];
      send(
        res,
        200,
        Object.fromEntries(Object.entries(lead).filter(([key]) => key === 'id' || fields.includes(key))),
      );
    },
  });

  const facebook = Object.assign(sandbox, {
    pageId,
    appSecret,
    verifyToken: `verify-${randomBytes(8).toString('hex')}`,
    pageAccessToken: token,
    leads,
    addLead(answers: Record<string, string>, extra: Partial<GraphLead> = {}): GraphLead {
      const lead: GraphLead = {
        id: digits(16),
        // Graph's own format: +0000, not Z.
        created_time: new Date().toISOString().replace(/\.\d{3}Z$/, '+0000'),
        ad_id: digits(17),
        form_id: digits(16),
        platform: 'fb',
        is_organic: false,
        field_data: Object.entries(answers).map(([name, value]) => ({ name, values: [value] })),
        ...extra,
      };
      leads.set(lead.id, lead);
      return lead;
    },
    expireToken() {
      expired = true;
    },
    renewToken() {
      expired = false;
      token = `EAAB${randomBytes(24).toString('base64url')}`;
      facebook.pageAccessToken = token;
      return token;
    },
    notification(lead: GraphLead) {
      const body = JSON.stringify({
        object: 'page',
        entry: [
          {
            id: pageId,
            time: Math.floor(Date.now() / 1000),
            changes: [
              {
                field: 'leadgen',
                value: {
                  ad_id: lead.ad_id,
                  form_id: lead.form_id,
                  leadgen_id: lead.id,
                  created_time: Math.floor(Date.parse(lead.created_time.replace('+0000', 'Z')) / 1000),
                  page_id: pageId,
                  adgroup_id: lead.ad_id,
                },
              },
            ],
          },
        ],
      });
      const signature = createHmac('sha256', appSecret).update(body).digest('hex');
      return {
        body,
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${signature}` },
      };
    },
    notificationRequest(lead: GraphLead) {
      const { body, headers } = facebook.notification(lead);
      return { method: 'POST', rawBody: Buffer.from(body), headers, query: {}, urls: [], now: new Date() };
    },
  });
  return facebook;
}
