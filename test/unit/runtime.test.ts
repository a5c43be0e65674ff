// The test command runs on a supported Node: the one scripts/ensure.mjs picked (this machine's when recent enough,
// else the Node 24 LTS it installed under .tools/), never an end-of-life one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  engines: { node: string };
};

test("the tests run on a Node that package.json's engines accepts, a maintained LTS (22 or later)", () => {
  const range = /^>=(\d+)(?:\.(\d+))?$/.exec(pkg.engines.node);
  const [major, minor] = [Number(range?.[1]), Number(range?.[2] ?? 0)];
  expect(major).toBeGreaterThanOrEqual(22);
  const [ownMajor = 0, ownMinor = 0] = process.versions.node.split('.').map(Number);
  expect(ownMajor * 1000 + ownMinor).toBeGreaterThanOrEqual(major * 1000 + minor);
});
