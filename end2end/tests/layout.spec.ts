// The pages fit the screen: at 1280 px no page scrolls sideways and every table fits its box; on a
// phone (390 px) the page does not scroll sideways either (wide tables scroll inside their box) and
// the menu folds behind a button. Both languages, as finance staff see the pages; a screenshot of
// each is kept with the test's results.
import type { Page, TestInfo } from '@playwright/test';
import { test, expect, gotoHydrated, contextFor, adminState, financeState } from './support';

const PAGES = ['/', '/transactions', '/settlements', '/refunds', '/refunds/pending-clearing', '/downloads', '/help'];
/** What an administrator sees besides (the monitor among them); `first` opens the first row's page of the list before it. */
const ADMIN_PAGES = ['/monitor', '/admin/operators', '/admin/terminals', 'first', '/admin/groups', 'first', '/admin/audit'];

for (const [width, height] of [[1280, 900], [390, 844]]) {
  for (const lang of ['中文', 'English']) {
    test(`pages fit ${width} px in ${lang}`, async ({ browser }, testInfo) => {
      const context = await contextFor(browser, 'hualian.finance', {
        storageState: financeState,
        viewport: { width, height },
      });
      const page = await context.newPage();
      await gotoHydrated(page, '/');
      if (width < 800) {
        // The menu is folded: the button opens it.
        await expect(page.locator('nav.sidebar ul')).toBeHidden();
        await page.locator('.nav-toggle-label').click();
        await expect(page.locator('nav.sidebar ul')).toBeVisible();
      }
      await page.getByRole('button', { name: lang }).click();
      for (const path of PAGES) {
        await gotoHydrated(page, path);
        await fits(page, path, width, testInfo);
      }
      await context.close();
    });

    test(`administration pages fit ${width} px in ${lang}`, async ({ browser }, testInfo) => {
      const context = await contextFor(browser, 'hualian.admin', {
        storageState: adminState,
        viewport: { width, height },
      });
      const page = await context.newPage();
      await gotoHydrated(page, '/');
      if (width < 800) {
        await page.locator('.nav-toggle-label').click();
      }
      await page.getByRole('button', { name: lang }).click();
      let last = '';
      for (const path of ADMIN_PAGES) {
        if (path === 'first') {
          const href = await page.locator('#content table tbody tr a').first().getAttribute('href');
          last = href ?? '';
        } else {
          last = path;
        }
        await gotoHydrated(page, last);
        await fits(page, last, width, testInfo);
      }
      await context.close();
    });
  }
}

/** The page at `path` does not scroll sideways, nor (at 1280 px) any table out of its box. */
async function fits(page: Page, path: string, width: number, testInfo: TestInfo) {
  const sideways = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(sideways, `${path} scrolls sideways`).toBeLessThanOrEqual(0);
  if (width >= 1280) {
    const cut = await page.evaluate(() =>
      Array.from(document.querySelectorAll('.table-wrap'))
        .filter((w) => w.scrollWidth > w.clientWidth + 1)
        .map((w) => `${w.firstElementChild?.id || w.firstElementChild?.className}: ${w.scrollWidth} > ${w.clientWidth}`),
    );
    expect(cut, `${path}: tables wider than their box`).toEqual([]);
  }
  await page.screenshot({ path: testInfo.outputPath(`${path.replace(/\//g, '_') || 'home'}-${width}.png`), fullPage: true });
}
