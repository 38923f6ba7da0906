import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'coverage/',
      'charts/',
      'crds/',
      '.scratch/',
      '.stack/',
      'api/generated/validators/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
      // Rules must never reach user-text evaluation.
      'no-eval': 'error',
      'no-new-func': 'error',
      'no-implied-eval': 'error',
    },
  },
  {
    // The dashboard's page script runs in the browser, with uPlot loaded before it.
    files: ['runtime/dashboard/static/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { window: 'readonly', document: 'readonly', EventSource: 'readonly', uPlot: 'readonly' },
    },
  },
  {
    files: ['**/*.test.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'it', property: 'skip', message: 'CI runs every test; do not skip.' },
        { object: 'it', property: 'todo', message: 'CI runs every test; no todo tests.' },
        { object: 'describe', property: 'skip', message: 'CI runs every test; do not skip.' },
        { object: 'test', property: 'skip', message: 'CI runs every test; do not skip.' },
      ],
    },
  },
);
