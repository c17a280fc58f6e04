// Signs the administrator and the finance officer of the demo merchant in once (first sign-in with
// the forced password change) and saves their sessions for the tests that act as them.
import { test as setup } from '@playwright/test';
import { adminState, contextFor, financeState, signInFirstTime } from './support';

setup('hualian.admin signs in for the first time', async ({ page }) => {
  await signInFirstTime(page, 'hualian.admin');
  await page.context().storageState({ path: adminState });
});

setup('hualian.finance signs in for the first time', async ({ browser }) => {
  const context = await contextFor(browser, 'hualian.finance');
  const page = await context.newPage();
  await signInFirstTime(page, 'hualian.finance');
  await context.storageState({ path: financeState });
  await context.close();
});
