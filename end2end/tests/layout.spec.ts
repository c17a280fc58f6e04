// The pages fit the screen: at 1280 px no page scrolls sideways and every table fits its box; on a
// phone (390 px) the page does not scroll sideways either (wide tables scroll inside their box) and
// the menu folds behind a button. Both languages, as finance staff see the pages; a screenshot of
// each is kept with the test's results.
import { test, expect, gotoHydrated, contextFor, financeState } from './support';

const PAGES = ['/', '/transactions', '/settlements', '/refunds', '/refunds/pending-clearing', '/downloads', '/help'];

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
      await context.close();
    });
  }
}
