import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { variables } from '../../shared/config';

const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');

test('the README configuration table lists every variable the config schema knows', () => {
  for (const name of Object.keys(variables)) expect(readme).toMatch(new RegExp(`\\|\\s*\`${name}\`\\s*\\|`));
});

test('the README quick start has exactly the two commands', () => {
  const quickStart = readme.split('## Quick start')[1]?.split('\n## ')[0] ?? '';
  const firstBlock = /```sh\n([\s\S]*?)```/.exec(quickStart)?.[1] ?? '';
  const commands = firstBlock
    .split('\n')
    .map((line) => line.split('#')[0]!.trim())
    .filter(Boolean);
  expect(commands).toEqual(['npm start', 'npm test']);
});
