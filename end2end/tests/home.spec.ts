import { test, expect, gotoHydrated, contextFor, adminState, financeState } from './support';

test('the home page shows the merchant of the signed-in operator and switches language', async ({ page }) => {
  await gotoHydrated(page, '/');
  await expect(page.locator('[data-field=merchant-name]')).toHaveText('华联优选超市连锁有限公司');
  await expect(page.locator('h1')).toHaveText('欢迎使用 VPOS 商户管理后台');
  await expect(page.locator('[data-field=operator]')).toContainText('hualian.admin');

  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.locator('h1')).toHaveText('Welcome to the VPOS merchant console');
  await expect(page.getByRole('heading', { name: 'Merchant information' })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page).toHaveTitle('Home · VPOS Merchant Console');

  // The choice is remembered: the server renders the next page in English.
  await gotoHydrated(page, '/');
  await expect(page.locator('h1')).toHaveText('Welcome to the VPOS merchant console');

  // Client-side navigation keeps the language; switching back works on any page.
  await page.getByRole('link', { name: 'Help' }).click();
  await expect(page).toHaveURL(/\/help$/);
  await expect(page.locator('h1')).toHaveText('Help');
  // The statuses are told in the words the pages use, in the page's language and its list style.
  await expect(page.locator('#help-statuses')).toContainText('Settlements: Pending, Paid');
  await page.getByRole('button', { name: '中文' }).click();
  await expect(page.locator('h1')).toHaveText('常见问题');
  await expect(page.locator('#help-statuses')).toContainText('结算：待划付、已划付');
  await expect(page.locator('#help-statuses')).toContainText('已撤回');
  await expect(page.locator('nav a[aria-current=page]')).toHaveText('常见问题');
});

test('the home page reads without JavaScript', async ({ browser }) => {
  const context = await contextFor(browser, 'hualian.admin', {
    javaScriptEnabled: false,
    locale: 'en-GB',
    storageState: adminState,
  });
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.locator('h1')).toHaveText('Welcome to the VPOS merchant console');
  await expect(page.locator('[data-field=merchant-name]')).toHaveText('华联优选超市连锁有限公司');
  await context.close();
});

test('a valid certificate bound to nobody is told so on the sign-in page', async ({ browser }) => {
  const context = await contextFor(browser, 'stranger', { locale: 'en' });
  const page = await context.newPage();
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('status')).toContainText('Certificate not bound to an operator');
  await expect(page.locator('[data-field=cert-subject]')).toHaveText('stranger');
  await context.close();
});

test.describe('an unknown address', () => {
  test.use({ expectedConsoleErrors: [/status of 404/] });

  test('shows a page-not-found page with status 404', async ({ page }) => {
    const response = await page.goto('/no-such-page');
    expect(response?.status()).toBe(404);
    await expect(page.locator('h1')).toHaveText('页面不存在');
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await page.getByRole('link', { name: '返回首页' }).click();
    await expect(page.locator('[data-field=merchant-name]')).toBeVisible();
  });
});

test.describe('the content security policy', () => {
  test.use({ expectedConsoleErrors: [/Content Security Policy/] });

  test('hydrates the console and refuses a script injected into the page', async ({ page }) => {
    // Every other test fails on a console error, so a policy that blocked the console's own
    // scripts or styles would show there; this one checks that it blocks what it should.
    await gotoHydrated(page, '/');
    await expect(page.addScriptTag({ content: 'window.injected = true;' })).rejects.toThrow();
    expect(await page.evaluate(() => (window as unknown as { injected?: boolean }).injected)).toBeUndefined();
  });
});

test('the home page figures are the transaction search\'s, day by day', async ({ browser }) => {
  const context = await contextFor(browser, 'hualian.finance', { storageState: financeState });
  const page = await context.newPage();
  for (const field of ['today', 'yesterday']) {
    await gotoHydrated(page, '/');
    const card = page.locator(`[data-field=${field}]`);
    const sales = (await card.locator('[data-figure=sales]').textContent())?.trim();
    const net = (await card.locator('[data-figure=net]').textContent())?.trim();
    expect(sales).toMatch(/^¥[\d,]+\.\d\d$/);
    await card.getByRole('link').click();
    await expect(page).toHaveURL(/\/transactions\?from=\d{4}-\d\d-\d\d&to=\d{4}-\d\d-\d\d$/);
    const total = page.locator('#summary-table tfoot tr');
    if (sales === '¥0.00' && net === '¥0.00') {
      // A day without sales (the demo's today may be one): the search finds nothing to add up
      // either, or only what moved no money.
      await expect(page.locator('#summary-table [data-field=net]').last().or(page.locator('.summary .muted').first())).toBeVisible();
      if ((await page.locator('#summary-table').count()) > 0) {
        await expect(total.locator('[data-field=net]')).toHaveText('¥0.00');
      }
      continue;
    }
    await expect(total.locator('td').nth(1)).toHaveText(sales ?? '');
    await expect(total.locator('[data-field=net]')).toHaveText(net ?? '');
  }
  // The chart's table holds the same days, and every figure has thousands separators.
  await gotoHydrated(page, '/');
  await expect(page.locator('.day-chart svg .chart-day')).toHaveCount(30);
  await expect(page.locator('[data-field=balance]')).toHaveText(/^-?¥\d{1,3}(,\d{3})*\.\d\d$/);
  await expect(page.locator('[data-field=next-payout], [data-field=last-settlement]').first()).toBeVisible();
  await context.close();
});
