import { readFileSync } from 'node:fs';
import { LIFECYCLE_DOC_PATH, renderLifecycleDoc } from '../../scripts/gen-lifecycle-doc';
import { DEFAULT_TRANSITIONS, PARTNER_VOCABULARIES } from '../../shared/lifecycle';

describe('docs/lifecycle.md', () => {
  test('matches the lifecycle table it is generated from', () => {
    const onDisk = readFileSync(LIFECYCLE_DOC_PATH, 'utf8');
    if (onDisk !== renderLifecycleDoc()) {
      throw new Error(
        'docs/lifecycle.md is out of date: run `npx tsx scripts/gen-lifecycle-doc.ts` and commit it.',
      );
    }
  });

  test('renders every transition and every partner vocabulary', () => {
    const doc = renderLifecycleDoc();
    expect(doc).toContain(
      '| `tour_scheduled` | `toured`, `qualified`, `application`, `leased`, `placed`, `lost` |',
    );
    expect(doc).toContain(`${DEFAULT_TRANSITIONS.new.map((s) => `\`${s}\``).join(', ')}`);
    for (const partner of Object.keys(PARTNER_VOCABULARIES)) expect(doc).toContain(`### ${partner}\n`);
    expect(doc).toMatch(/\| `move_in` +\| `placed` +\|/);
    expect(doc).toMatch(/\| `tour_scheduled` +\| not pushed +\|/);
  });
});
