// Signs the administrator of the demo merchant in once (first sign-in with the forced password
// change) and saves the session for the tests that act as them.
import { test as setup } from '@playwright/test';
import { adminState, signInFirstTime } from './support';

setup('hualian.admin signs in for the first time', async ({ page }) => {
  await signInFirstTime(page, 'hualian.admin');
  await page.context().storageState({ path: adminState });
});
