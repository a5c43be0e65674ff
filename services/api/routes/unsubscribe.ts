// The signed one-click unsubscribe link of prospect email: GET shows a confirmation page, POST (the
// button, or a mail client's RFC 8058 one-click `List-Unsubscribe=One-Click`) opts the lead out and ends its
// sequences.
import express from 'express';
import { unsubscribe, unsubscribeLink, type EmailLinkDeps } from '../../../usecases/emailLinks';
import { endpoint } from '../../common/endpoints';

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
  `<title>${title}</title><style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}` +
  `button{font:inherit;padding:.6rem 1.2rem}</style></head><body><h1>${title}</h1>${body}</body></html>`;

export function unsubscribeEndpoints(deps: EmailLinkDeps) {
  const shared = { path: '/unsubscribe/:token', tag: 'notifications', auth: 'none' } as const;
  return [
    endpoint({
      ...shared,
      method: 'get',
      summary: 'Unsubscribe page of a prospect email (signed link)',
      responses: { 200: { description: 'HTML confirmation page', html: true } },
      handler({ params, res }) {
        unsubscribeLink(deps, params.token);
        res
          .type('html')
          .send(
            page(
              'Unsubscribe',
              '<p>Stop receiving email about your inquiry?</p><form method="post"><button type="submit">Unsubscribe</button></form>',
            ),
          );
      },
    }),
    endpoint({
      ...shared,
      method: 'post',
      summary:
        'One-click unsubscribe (RFC 8058): the lead gets no more prospect email and leaves its sequences',
      responses: { 200: { description: 'HTML page', html: true } },
      before: [express.urlencoded({ extended: false, limit: '1kb' })],
      async handler({ params, res }) {
        await unsubscribe(deps, params.token);
        res
          .type('html')
          .send(page('Unsubscribed', '<p>You will not receive more email about your inquiry.</p>'));
      },
    }),
  ];
}
