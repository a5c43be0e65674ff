// Who may call a route: workspace API keys (hashed in Postgres) with permissions and the per-workspace rate
// limit, the operator's admin token, or either; a route's `auth` picks the checks here.
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type pg from 'pg';
import {
  countOperatorRequest,
  countRequest,
  RATE_WINDOW_SECONDS,
  type RateBucket,
  type RateCount,
} from '../../data/rateLimits';
import { findApiKey, hashApiKey, type ApiKeyOwner, type Permission } from '../../data/workspaces';
import { AppError } from '../../shared/errors';
import type { Endpoint } from '../common/endpoints';

export type Principal = ApiKeyOwner;

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

function bearer(req: Request): string | undefined {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

function isAdminToken(req: Request, adminToken: string | undefined): boolean {
  const given = Buffer.from(bearer(req) ?? '');
  const expected = Buffer.from(adminToken ?? '');
  return adminToken !== undefined && given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Keys recently answered 401, so a client repeating a bad key costs no database round trip. Bounded in size
 * and age (a key made on another api replica is found within `ttlMs`); cleared when this process creates or
 * rotates a key. Holds hashes, never keys.
 */
export class RecentMisses {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly capacity = 10_000,
    private readonly ttlMs = 60_000,
  ) {}

  has(key: string): boolean {
    const hash = hashApiKey(key);
    const at = this.seen.get(hash);
    if (at === undefined) return false;
    if (Date.now() - at < this.ttlMs) return true;
    this.seen.delete(hash);
    return false;
  }

  add(key: string): void {
    const hash = hashApiKey(key);
    this.seen.delete(hash);
    this.seen.set(hash, Date.now());
    // A Map iterates in insertion order: the first entry is the oldest.
    if (this.seen.size > this.capacity) this.seen.delete(this.seen.keys().next().value!);
  }

  clear(): void {
    this.seen.clear();
  }
}

/** Resolves the API key to its workspace; 401 without a valid key. */
function authenticate(pool: pg.Pool, misses: RecentMisses): RequestHandler {
  return (req, _res, next) => {
    const key = bearer(req);
    if (!key) return next(new AppError('unauthorized', 'missing Authorization: Bearer <api key>'));
    if (misses.has(key)) return next(new AppError('unauthorized', 'invalid API key'));
    findApiKey(pool, key).then((found) => {
      if (!found) {
        misses.add(key);
        return next(new AppError('unauthorized', 'invalid API key'));
      }
      req.principal = found;
      next();
    }, next);
  };
}

/** The header the dashboard's requests carry, so staff using the app spend its budget, not the integrations'. */
export const CLIENT_HEADER = 'x-leadrelay-client';

function bucketOf(req: Request): RateBucket {
  return req.get(CLIENT_HEADER) === 'dashboard' ? 'dashboard' : 'api';
}

/** Answers a request's count with the IETF RateLimit headers; past the limit, 429 with Retry-After. */
function enforce(res: Response, next: NextFunction, count: RateCount, budget: string): void {
  const { limit, requests, resetSeconds } = count;
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
      budget,
      window_seconds: RATE_WINDOW_SECONDS,
      retry_after: resetSeconds,
    }),
  );
}

/** Counts the request against its workspace budget's hourly limit; 429 past it. */
function rateLimit(pool: pg.Pool): RequestHandler {
  return (req, res, next) => {
    const { workspaceId } = principal(req);
    const bucket = bucketOf(req);
    countRequest(pool, workspaceId, bucket).then((count) => enforce(res, next, count, bucket), next);
  };
}

/** Operator requests an hour per client address when LEADRELAY_OPERATOR_RATE_LIMIT_PER_HOUR is unset. */
export const OPERATOR_RATE_LIMIT_PER_HOUR = 3600;

/**
 * Operator routes (admin token, the codec and its sign-in) belong to no workspace: an hourly budget per client
 * address, counted before the token is checked, so guessing the token spends it too.
 */
export function operatorRateLimit(
  pool: pg.Pool,
  limitPerHour = OPERATOR_RATE_LIMIT_PER_HOUR,
): RequestHandler {
  return (req, res, next) => {
    const subject = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    countOperatorRequest(pool, subject, limitPerHour).then(
      (count) => enforce(res, next, count, 'operator'),
      next,
    );
  };
}

/** 403 unless the key carries the permission (`admin` implies every other). */
function requirePermission(permission: Permission): RequestHandler {
  return (req, _res, next) => {
    const granted = req.principal?.permissions ?? [];
    if (granted.includes(permission) || granted.includes('admin')) return next();
    next(
      new AppError('forbidden', `this API key lacks the '${permission}' permission`, {
        required: permission,
      }),
    );
  };
}

/** The caller of a route behind an API key. */
export function principal(req: Request): Principal {
  if (!req.principal) throw new AppError('unauthorized', 'not authenticated');
  return req.principal;
}

/** The LEADRELAY_ADMIN_TOKEN check for operator routes. */
function requireAdminToken(adminToken: string | undefined): RequestHandler {
  return (req, _res, next) => {
    if (!adminToken)
      return next(new AppError('unauthorized', 'LEADRELAY_ADMIN_TOKEN is not configured on this server'));
    if (!isAdminToken(req, adminToken)) {
      return next(
        new AppError('unauthorized', 'admin token required: Authorization: Bearer $LEADRELAY_ADMIN_TOKEN'),
      );
    }
    next();
  };
}

/** The admin token (every workspace), or an API key with the permission (its own workspace: `req.principal`). */
function adminTokenOrKey(
  pool: pg.Pool,
  misses: RecentMisses,
  adminToken: string | undefined,
  permission: Permission,
  operatorLimit: RequestHandler,
) {
  const keyAuth = authenticate(pool, misses);
  const limited = rateLimit(pool);
  const permitted = requirePermission(permission);
  return (req: Request, res: Response, next: NextFunction) => {
    // The operator spends the operator budget; a key, its workspace's.
    if (isAdminToken(req, adminToken)) return operatorLimit(req, res, next);
    keyAuth(req, res, (error?: unknown) =>
      error
        ? next(error)
        : limited(req, res, (limitedError?: unknown) =>
            limitedError ? next(limitedError) : permitted(req, res, next),
          ),
    );
  };
}

/** The checks each route's `auth` and `permission` stand for, run before it parses and answers. */
export function guard(deps: {
  pool: pg.Pool;
  adminToken?: string;
  misses: RecentMisses;
  /** The operator budget's middleware (operatorRateLimit), shared with the codec's own guards. */
  operatorLimit: RequestHandler;
}) {
  const apiKey = [authenticate(deps.pool, deps.misses), rateLimit(deps.pool)];
  const adminToken = [deps.operatorLimit, requireAdminToken(deps.adminToken)];
  return (route: Endpoint): RequestHandler[] => {
    switch (route.auth) {
      case 'api_key':
        return route.permission ? [...apiKey, requirePermission(route.permission)] : apiKey;
      case 'admin_token':
        return adminToken;
      case 'admin_token_or_key':
        return [
          adminTokenOrKey(
            deps.pool,
            deps.misses,
            deps.adminToken,
            route.permission ?? 'admin',
            deps.operatorLimit,
          ),
        ];
      case 'none':
        return [];
    }
  };
}

/** Unknown paths under /api/v1 answer 401 without a key, as every route there does, before the 404. */
export function apiKeyFallback(pool: pg.Pool, misses: RecentMisses): RequestHandler[] {
  return [authenticate(pool, misses), rateLimit(pool)];
}
