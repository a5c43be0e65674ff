// `npm run bench`: the measurements of SPEC section 8 that are not timed tests. `npm run bench -- api` runs one part.
import { benchApi } from './api';

const PARTS: Record<string, () => Promise<void>> = {
  api: benchApi,
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !PARTS[name]);
  if (unknown.length) {
    process.stderr.write(
      `leadrelay bench: unknown part ${unknown.join(', ')}; parts: ${Object.keys(PARTS).join(', ')}\n`,
    );
    process.exit(2);
  }
  for (const name of wanted.length ? wanted : Object.keys(PARTS)) await PARTS[name]!();
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    process.stderr.write(
      `leadrelay bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
