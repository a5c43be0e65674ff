// Per-workspace rate limit with the IETF RateLimit headers; 429 with Retry-After once the window is used up.
import type { NextFunction, Request, Response } from 'express';
import type pg from 'pg';
import { countRequest, RATE_WINDOW_SECONDS } from '../../data/rateLimits';
import { AppError } from '../../shared/errors';
import { principal } from './auth';

export function rateLimit(pool: pg.Pool) {
  return (req: Request, res: Response, next: NextFunction) => {
    const { workspaceId } = principal(req);
    countRequest(pool, workspaceId).then(({ limit, requests, resetSeconds }) => {
      if (!Number.isFinite(limit)) return next();
      res.setHeader('RateLimit-Limit', String(limit));
      res.setHeader('RateLimit-Remaining', String(Math.max(0, limit - requests)));
      res.setHeader('RateLimit-Reset', String(resetSeconds));
      res.setHeader('RateLimit-Policy', `${limit};w=${RATE_WINDOW_SECONDS}`);
      if (requests <= limit) return next();
      res.setHeader('Retry-After', String(resetSeconds));
      next(
        new AppError('rate_limited', `rate limit of ${limit} requests per hour reached; retry later`, {
          limit,
          window_seconds: RATE_WINDOW_SECONDS,
          retry_after: resetSeconds,
        }),
      );
    }, next);
  };
}
