// Bearer authentication: workspace API keys (hashed in Postgres) with permissions, and the admin token.
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type pg from 'pg';
import { findApiKey, type Permission } from '../../data/workspaces';
import { AppError } from '../../shared/errors';

export interface Principal {
  workspaceId: string;
  permissions: Permission[];
}

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

/** Resolves the API key to its workspace; 401 without a valid key. */
export function authenticate(pool: pg.Pool) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const key = bearer(req);
    if (!key) return next(new AppError('unauthorized', 'missing Authorization: Bearer <api key>'));
    findApiKey(pool, key).then((found) => {
      if (!found) return next(new AppError('unauthorized', 'invalid API key'));
      req.principal = found;
      next();
    }, next);
  };
}

/** 403 unless the key carries the permission (`admin` implies every other). */
export function requirePermission(permission: Permission) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const granted = req.principal?.permissions ?? [];
    if (granted.includes(permission) || granted.includes('admin')) return next();
    next(
      new AppError('forbidden', `this API key lacks the '${permission}' permission`, {
        required: permission,
      }),
    );
  };
}

export function principal(req: Request): Principal {
  if (!req.principal) throw new AppError('unauthorized', 'not authenticated');
  return req.principal;
}

/** The LEADRELAY_ADMIN_TOKEN check for operator routes. */
export function requireAdminToken(adminToken: string | undefined) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!adminToken)
      return next(new AppError('unauthorized', 'LEADRELAY_ADMIN_TOKEN is not configured on this server'));
    const given = Buffer.from(bearer(req) ?? '');
    const expected = Buffer.from(adminToken);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return next(
        new AppError('unauthorized', 'admin token required: Authorization: Bearer $LEADRELAY_ADMIN_TOKEN'),
      );
    }
    next();
  };
}
