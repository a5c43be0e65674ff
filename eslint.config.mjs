// Lint rules: typescript-eslint's recommended set, plus the determinism guard for workflow code.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Modules that do I/O, refused in code that runs in Temporal's workflow sandbox. */
const SANDBOX_IO = {
  group: [
    'pg',
    'express',
    'nodemailer',
    'twilio',
    'fs',
    'node:*',
    'http',
    'https',
    'undici',
    'pino',
    'prom-client',
  ],
  message: 'No I/O in code that runs inside workflows.',
};
const SANDBOX_RANDOM = {
  object: 'Math',
  property: 'random',
  message: "Use Temporal's deterministic random.",
};

/** Import patterns reaching a top-level folder from anywhere below the root. */
const layers = (...names) =>
  names.flatMap((name) => [
    `../${name}`,
    `../${name}/**`,
    `../../${name}`,
    `../../${name}/**`,
    `../../../${name}/**`,
  ]);

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      '.data/',
      '.tools/',
      'coverage/',
      'test-results/',
      'test-artifacts/',
      'web/dist/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // A promise nobody awaits loses its error: every one is awaited, returned, or marked `void` on purpose.
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['web/vite.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The dashboard runs in the browser (React, DOM); its build script runs in Node.
    files: ['web/src/**/*.{ts,tsx}'],
    languageOptions: {
      parserOptions: { ecmaFeatures: { jsx: true } },
      globals: {
        window: 'readonly',
        document: 'readonly',
        navigator: 'readonly',
        location: 'readonly',
        history: 'readonly',
        fetch: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        Blob: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextDecoderStream: 'readonly',
        HTMLElement: 'readonly',
        ResizeObserver: 'readonly',
        sessionStorage: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        React: 'readonly',
      },
    },
  },
  {
    // Tests read JSON answers field by field.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  // One way down: services → use cases → activities and data access → shared; workflows → shared. Each
  // block names what its folder must not import (test/unit/layers.test.ts also finds whole cycles).
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: layers('services', 'usecases', 'activities', 'data', 'workflows', 'infra'),
              message: 'shared imports nothing of the other layers.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['data/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: layers('services', 'usecases', 'activities', 'workflows'),
              message: 'Data access imports only shared.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['activities/**/*.ts', 'usecases/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: layers('services'), message: 'Activities and use cases never import services.' },
            {
              group: layers('workflows'),
              allowTypeImports: true,
              message: 'Talk to workflows through shared/journey/messages.',
            },
          ],
        },
      ],
    },
  },
  {
    // One description of the API: its routes are mounted through Endpoints (services/common/endpoints.ts), whose
    // definitions /openapi.json is built from. A route registered on Express directly would be undocumented.
    files: ['services/api/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'CallExpression[callee.property.name=/^(get|post|put|patch|delete|all|route)$/][arguments.0.value=/^\\//]',
          message:
            'Define the route with endpoint() and mount it through Endpoints, so /openapi.json has it.',
        },
      ],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O modules, no wall clock.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: layers('activities'),
              allowTypeImports: true,
              message: 'Workflows import activity types only.',
            },
            {
              group: layers('services', 'usecases', 'data', 'infra'),
              message: 'Workflows import only shared.',
            },
            SANDBOX_IO,
          ],
        },
      ],
      'no-restricted-properties': ['error', SANDBOX_RANDOM],
    },
  },
  {
    // The reducer and its helpers run inside workflows too: the same sandbox, and time comes in as an argument.
    files: ['shared/journey/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: layers('services', 'usecases', 'activities', 'data', 'workflows', 'infra'),
              message: 'shared imports nothing of the other layers.',
            },
            SANDBOX_IO,
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        SANDBOX_RANDOM,
        { object: 'Date', property: 'now', message: 'The reducer is given `now`; it reads no clock.' },
      ],
    },
  },
);
