// CI-sized chaos: Postgres killed (-9) mid-load and started again seconds later. The test run shares one Postgres,
// so this runs the chaos command itself (`npm run chaos -- postgres-stop --quick`) as a child process: its own
// dev server, embedded Postgres, sandboxes and services on free ports, reconciled by counting.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScenarioResult } from '../../scripts/chaos/scenarios';

const ROOT = join(__dirname, '..', '..');

test('Postgres down mid-load: every acknowledged webhook applied and notified exactly once, no service died', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'leadrelay-chaos-'));
  const file = join(dir, 'results.json');
  try {
    const run = await new Promise<{ code: number; output: string }>((resolveRun) => {
      const child = execFile(
        process.execPath,
        [
          '--import',
          'tsx',
          join(ROOT, 'scripts', 'chaos', 'run.ts'),
          'postgres-stop',
          '--quick',
          '--json',
          file,
        ],
        { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) =>
          resolveRun({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}\n${stderr}` }),
      );
      void child;
    });
    let results: ScenarioResult[];
    try {
      results = JSON.parse(readFileSync(file, 'utf8')) as ScenarioResult[];
    } catch {
      throw new Error(`the chaos run wrote no results (exit ${run.code}):\n${run.output.slice(-4000)}`);
    }
    const [result] = results;
    // First what went wrong, by name (a crashed service, a count off), then the exit code.
    expect(result!.mismatches).toEqual([]);
    expect(run.code).toBe(0);
    expect(result!.timeline.some((line) => line.includes('kill -9 Postgres'))).toBe(true);
    expect(result!.timeline.some((line) => line.includes('Postgres started again'))).toBe(true);
    expect(result!.counts).toMatchObject({
      acknowledged: 40,
      inboxRows: 40,
      applied: 40,
      journeysAtStatus: 40,
      sms: { seen: 40, leads: 40 },
      email: { seen: 40, leads: 40 },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 300_000);
