// The page-load benchmark (`make bench-page`): bench/*.spec.ts against the console end2end/run.sh
// prepares, one worker, nothing else running in the browser meanwhile.
import { defineConfig } from '@playwright/test';
import base from './playwright.config';

export default defineConfig({
  ...base,
  testDir: './bench',
  timeout: 300_000,
  workers: 1,
  projects: [{ name: 'bench' }],
});
