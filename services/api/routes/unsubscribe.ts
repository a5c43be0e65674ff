// The signed one-click unsubscribe link of prospect email: GET shows a confirmation page, POST (the
// button, or a mail client's RFC 8058 one-click `List-Unsubscribe=One-Click`) opts the lead out.
import express from 'express';
import type pg from 'pg';
import { readUnsubscribeToken } from '../../../activities/notify/unsubscribe';
import { optOutOfEmail } from '../../../data/leads';
import type { KeyRing } from '../../../shared/crypto';
import { AppError } from '../../../shared/errors';
import { endpoint } from '../../common/endpoints';

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
  `<title>${title}</title><style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}` +
  `button{font:inherit;padding:.6rem 1.2rem}</style></head><body><h1>${title}</h1>${body}</body></html>`;

export function unsubscribeEndpoints(pool: pg.Pool, keyRing: KeyRing | undefined) {
  const lead = (token: string) => {
    const found = keyRing ? readUnsubscribeToken(keyRing, token) : undefined;
    if (!found) throw new AppError('not_found', 'this unsubscribe link is not valid');
    return found;
  };
  const shared = { path: '/unsubscribe/:token', tag: 'notifications', auth: 'none' } as const;
  return [
    endpoint({
      ...shared,
      method: 'get',
      summary: 'Unsubscribe page of a prospect email (signed link)',
      responses: { 200: { description: 'HTML confirmation page', html: true } },
      handler({ params, res }) {
        lead(params.token);
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
      summary: 'One-click unsubscribe (RFC 8058): the lead gets no more prospect email',
      responses: { 200: { description: 'HTML page', html: true } },
      before: [express.urlencoded({ extended: false, limit: '1kb' })],
      async handler({ params, res }) {
        await optOutOfEmail(pool, lead(params.token));
        res
          .type('html')
          .send(page('Unsubscribed', '<p>You will not receive more email about your inquiry.</p>'));
      },
    }),
  ];
}
