// The signed one-click unsubscribe link of prospect email: GET shows a confirmation page, POST (the
// button, or a mail client's RFC 8058 one-click `List-Unsubscribe=One-Click`) opts the lead out.
import express, { Router } from 'express';
import type pg from 'pg';
import { optOutOfEmail, readUnsubscribeToken } from '../../../activities/notify/unsubscribe';
import type { KeyRing } from '../../../shared/crypto';
import { AppError } from '../../../shared/errors';
import { route } from '../../common/http';

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
  `<title>${title}</title><style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}` +
  `button{font:inherit;padding:.6rem 1.2rem}</style></head><body><h1>${title}</h1>${body}</body></html>`;

export function unsubscribeRouter(pool: pg.Pool, keyRing: KeyRing | undefined): Router {
  const router = Router();
  const lead = (token: string) => {
    const found = keyRing ? readUnsubscribeToken(keyRing, token) : undefined;
    if (!found) throw new AppError('not_found', 'this unsubscribe link is not valid');
    return found;
  };
  router.get(
    '/:token',
    route(async (req, res) => {
      lead(String(req.params.token));
      res
        .type('html')
        .send(
          page(
            'Unsubscribe',
            '<p>Stop receiving email about your inquiry?</p><form method="post"><button type="submit">Unsubscribe</button></form>',
          ),
        );
    }),
  );
  router.post(
    '/:token',
    express.urlencoded({ extended: false, limit: '1kb' }),
    route(async (req, res) => {
      await optOutOfEmail(pool, lead(String(req.params.token)));
      res
        .type('html')
        .send(page('Unsubscribed', '<p>You will not receive more email about your inquiry.</p>'));
    }),
  );
  return router;
}
