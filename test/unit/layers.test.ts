// One way down: the import graph of the product's code has no cycles, and each layer imports only those below
// it (services → use cases → activities and data access → shared; workflows → shared). Lint says the same per
// import (eslint.config.mjs); this test sees whole cycles, which no single import shows.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(__dirname, '../..');
const LAYERS = ['services', 'usecases', 'activities', 'data', 'workflows', 'shared'] as const;
type Layer = (typeof LAYERS)[number];

/** What each layer may import; workflows may also type-import activities (their proxies' types). */
const MAY_IMPORT: Record<Layer, Layer[]> = {
  services: ['usecases', 'activities', 'data', 'shared'],
  usecases: ['activities', 'data', 'shared'],
  activities: ['usecases', 'data', 'shared'],
  data: ['shared'],
  workflows: ['shared'],
  shared: [],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.ts$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function resolveModule(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Not this one.
    }
  }
  return undefined;
}

interface Import {
  target: string;
  /** `import type`: loads no code (workflows may type-import activities, and only so). */
  typeOnly: boolean;
}

/** Relative imports and re-exports of a file. */
function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: Import[] = [];
  for (const statement of source.statements) {
    let spec: string | undefined;
    let typeOnly = false;
    if (ts.isImportDeclaration(statement)) {
      spec = (statement.moduleSpecifier as ts.StringLiteral).text;
      const clause = statement.importClause;
      const bindings = clause?.namedBindings;
      typeOnly =
        clause?.isTypeOnly === true ||
        (!clause?.name &&
          bindings !== undefined &&
          ts.isNamedImports(bindings) &&
          bindings.elements.length > 0 &&
          bindings.elements.every((element) => element.isTypeOnly));
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier) {
      spec = (statement.moduleSpecifier as ts.StringLiteral).text;
      typeOnly = statement.isTypeOnly;
    }
    if (spec?.startsWith('.')) {
      const target = resolveModule(file, spec);
      if (target) found.push({ target, typeOnly });
    }
  }
  return found;
}

const layerOf = (file: string): Layer | undefined =>
  LAYERS.find((layer) => relative(ROOT, file).split('/')[0] === layer);

const files = LAYERS.flatMap((layer) => sources(join(ROOT, layer)));
const graph = new Map(files.map((file) => [file, importsOf(file)]));

/** Strongly connected components with more than one file (or a file importing itself): the cycles. */
function cycles(): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (file: string) => {
    indexOf.set(file, index);
    low.set(file, index);
    index += 1;
    stack.push(file);
    onStack.add(file);
    for (const { target: next } of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      if (!indexOf.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(file, Math.min(low.get(file)!, indexOf.get(next)!));
      }
    }
    if (low.get(file) === indexOf.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(relative(ROOT, member));
      } while (member !== file);
      if (component.length > 1 || graph.get(file)!.some((i) => i.target === file))
        found.push(component.sort());
    }
  };
  for (const file of graph.keys()) if (!indexOf.has(file)) visit(file);
  return found;
}

test('sees the code it judges', () => {
  expect(files.length).toBeGreaterThan(100);
  expect([...graph.values()].flat().length).toBeGreaterThan(300);
});

test('the code has no import cycles, type-only imports included', () => {
  expect(cycles()).toEqual([]);
});

test('each layer imports only the layers below it', () => {
  const climbing = [...graph].flatMap(([file, imports]) => {
    const from = layerOf(file)!;
    return imports
      .filter(({ target, typeOnly }) => {
        const to = layerOf(target);
        if (to === undefined || to === from || MAY_IMPORT[from].includes(to)) return false;
        return !(from === 'workflows' && to === 'activities' && typeOnly);
      })
      .map(({ target }) => `${relative(ROOT, file)} → ${relative(ROOT, target)}`);
  });
  expect(climbing).toEqual([]);
});
