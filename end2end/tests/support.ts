// Shared fixtures: client certificates of the test console, a page that fails the test on any script
// error, and waiting for hydration.
import { test as base, expect, Page } from '@playwright/test';
import * as path from 'node:path';

export const baseURL = process.env.E2E_BASE_URL ?? 'https://localhost:18443';
const stateDir = process.env.E2E_STATE_DIR ?? path.join(__dirname, '..', '..', 'target', 'e2e');

/** The PKCS#12 certificate issued to `name` by end2end/run.sh. */
export function clientCertificate(name: string) {
  return {
    origin: new URL(baseURL).origin,
    pfxPath: path.join(stateDir, 'var', 'pki', 'issued', `${name}.p12`),
    passphrase: process.env.E2E_P12_PASSWORD ?? '',
  };
}

/** The demo operators' first password. */
export const demoPassword = process.env.E2E_DEMO_PASSWORD ?? '';

export const test = base.extend<{ page: Page; expectedConsoleErrors: RegExp[] }>({
  /** Console errors a test expects (e.g. the 404 of a page that does not exist). */
  expectedConsoleErrors: [[], { option: true }],
  page: async ({ page, expectedConsoleErrors }, use) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !expectedConsoleErrors.some((re) => re.test(m.text()))) {
        errors.push(`console: ${m.text()}`);
      }
    });
    await use(page);
    expect(errors, 'the page logged errors').toEqual([]);
  },
});

export { expect };

/** Opens `url` and waits until the app is hydrated (interactive). */
export async function gotoHydrated(page: Page, url: string) {
  await page.goto(url);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}
