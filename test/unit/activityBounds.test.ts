// No activity retries forever: every proxyActivities in workflows/ bounds its retries (a schedule-to-close
// timeout or a maximum of attempts), and an activity's error is non-retryable exactly when no retry can change it.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import ts from 'typescript';
import { activityFailure } from '../../activities/failures';
import { AppError } from '../../shared/errors';

const WORKFLOWS = resolve(__dirname, '../../workflows');

/** Every proxyActivities call of workflows/, as `file:line` with the option names it states. */
function proxies(): { at: string; options: Set<string>; retry: Set<string> }[] {
  const found: { at: string; options: Set<string>; retry: Set<string> }[] = [];
  for (const name of readdirSync(WORKFLOWS).filter((n) => n.endsWith('.ts'))) {
    const source = ts.createSourceFile(
      name,
      readFileSync(join(WORKFLOWS, name), 'utf8'),
      ts.ScriptTarget.Latest,
      true,
    );
    const visit = (node: ts.Node): void => {
      if (
        ts.isCallExpression(node) &&
        ts.isIdentifier(node.expression) &&
        node.expression.text === 'proxyActivities'
      ) {
        const at = `${name}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
        const options = new Set<string>();
        const retry = new Set<string>();
        const literal = node.arguments[0];
        if (literal && ts.isObjectLiteralExpression(literal)) {
          for (const property of literal.properties) {
            if (!ts.isPropertyAssignment(property) && !ts.isShorthandPropertyAssignment(property)) continue;
            const key = property.name.getText(source);
            options.add(key);
            if (
              key === 'retry' &&
              ts.isPropertyAssignment(property) &&
              ts.isObjectLiteralExpression(property.initializer)
            ) {
              for (const inner of property.initializer.properties)
                if (inner.name) retry.add(inner.name.getText(source));
            }
          }
        }
        found.push({ at, options, retry });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

test('every proxyActivities in workflows/ bounds its retries', () => {
  const all = proxies();
  // The journey, its effects, sequences, live policy, webhooks, polls, imports and inbound fetches.
  expect(all.length).toBeGreaterThanOrEqual(15);
  const unbounded = all
    .filter(({ options, retry }) => !options.has('scheduleToCloseTimeout') && !retry.has('maximumAttempts'))
    .map(({ at }) => at);
  expect(unbounded).toEqual([]);
});

describe('activityFailure', () => {
  test.each([
    ['validation_failed', 'property oak does not exist in this workspace'],
    ['not_found', 'import 1 not found'],
    ['egress_refused', 'base_url resolves to a private address'],
    ['conflict', 'a paid referral fee cannot become void'],
  ] as const)('an AppError %s is non-retryable, typed by its code, with its message', (code, message) => {
    const failure = activityFailure(new AppError(code, message, { field: 'x' }));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: code, message, nonRetryable: true, details: [{ field: 'x' }] });
  });

  test('a Postgres data error (22xxx, NOT NULL, CHECK) is non-retryable', () => {
    for (const code of ['22021', '22P02', '23502', '23514']) {
      const error = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code });
      expect(activityFailure(error)).toMatchObject({ type: 'invalid_data', nonRetryable: true });
    }
  });

  test('outages, rate limits and unknown errors stay as they are (retryable)', () => {
    const transient = [
      new AppError('rate_limited', 'slow down'),
      new AppError('unavailable', 'Postgres is restarting'),
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('duplicate key'), { code: '23505' }),
      new Error('something else'),
    ];
    for (const error of transient) expect(activityFailure(error)).toBe(error);
  });
});
