#!/usr/bin/env node
// Builds the staff dashboard (web/ → web/dist) with Vite's build API. `--if-stale` skips the build when
// web/dist is newer than every source file, so `npm start` only builds when something changed.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = dirname(fileURLToPath(import.meta.url));
const root = join(web, '..');
const builtIndex = join(web, 'dist', 'index.html');

/**
 * The newest modification time under the given files and folders.
 * @param {string[]} paths
 * @returns {number}
 */
function newest(paths) {
  let latest = 0;
  for (const path of paths) {
    if (!existsSync(path)) continue;
    const stat = statSync(path);
    if (stat.isDirectory()) {
      latest = Math.max(latest, newest(readdirSync(path).map((name) => join(path, name))));
    } else {
      latest = Math.max(latest, stat.mtimeMs);
    }
  }
  return latest;
}

export function isStale() {
  if (!existsSync(builtIndex)) return true;
  const sources = newest([
    join(web, 'src'),
    join(web, 'index.html'),
    join(web, 'vite.config.ts'),
    // A dependency upgrade (React, Vite) changes the lockfile.
    join(root, 'package-lock.json'),
  ]);
  return sources > statSync(builtIndex).mtimeMs;
}

/** @param {{ quiet?: boolean }} [options] */
export async function buildWeb({ quiet = false } = {}) {
  const { build } = await import('vite');
  await build({
    root: web,
    configFile: join(web, 'vite.config.ts'),
    logLevel: quiet ? 'warn' : 'info',
    mode: 'production',
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const ifStale = process.argv.includes('--if-stale');
  if (ifStale && !isStale()) {
    process.stdout.write('web: the dashboard build (web/dist) is up to date\n');
  } else {
    process.stdout.write('web: building the dashboard into web/dist\n');
    buildWeb({ quiet: process.argv.includes('--quiet') }).catch((error) => {
      process.stderr.write(
        `leadrelay: dashboard build failed: ${error instanceof Error ? error.message : error}\n`,
      );
      process.exit(1);
    });
  }
}
