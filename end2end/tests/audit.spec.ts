import * as fs from 'node:fs';
import { test, expect, gotoHydrated } from './support';

test('an administrator filters the audit log and downloads it as Excel', async ({ page }) => {
  await gotoHydrated(page, '/');
  await page.getByRole('link', { name: '审计日志' }).click();
  await expect(page).toHaveURL(/\/admin\/audit$/);
  await expect(page.locator('#audit-table tbody tr').first()).toBeVisible();

  // The filters go into the URL (a search can be bookmarked) and every row matches them.
  await page.locator('#action').selectOption('sign_in');
  await page.locator('#outcome').selectOption('success');
  await page.getByRole('button', { name: '查询' }).click();
  await expect(page).toHaveURL(/action=sign_in/);
  await expect(page).toHaveURL(/outcome=success/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const actions = await page.locator('#audit-table tbody tr').evaluateAll((rows) =>
    rows.map((r) => r.getAttribute('data-action')),
  );
  expect(actions.length).toBeGreaterThan(0);
  expect(new Set(actions)).toEqual(new Set(['sign_in']));
  await expect(page.locator('#action')).toHaveValue('sign_in');

  // Reversed dates are named next to the field.
  await page.locator('#from').fill('2026-11-22');
  await page.locator('#to').fill('2026-11-01');
  await page.getByRole('button', { name: '查询' }).click();
  await expect(page.locator('.field-error')).toHaveText('结束日期早于开始日期。');

  // Details read in words: a refund request names its amount as money, its reason in words, and
  // links its transaction and the request itself.
  await gotoHydrated(page, '/admin/audit?action=refund_request');
  const row = page.locator('#audit-table tbody tr').first();
  await expect(row.locator('li[data-key=amount_fen]')).toHaveText(/^金额：¥[\d,]+\.\d\d$/);
  await expect(row.locator('li[data-key=reason]')).not.toContainText('_');
  await expect(row.locator('li[data-key=txn_id] a')).toHaveAttribute('href', /^\/transactions\/\d+$/);
  await expect(row.locator('td a[href^="/refunds/"]')).toHaveText(/^退货申请 #\d+$/);
  await expect(page.locator('[data-field=audit-ids-note]')).toContainText('其他商户的事件');
  await gotoHydrated(page, '/admin/audit?action=sign_in');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('[data-action=download]').click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^audit-log-\d{8}-\d{6}\.xlsx$/);
  const file = await download.path();
  const head = fs.readFileSync(file).subarray(0, 2).toString('latin1');
  expect(head).toBe('PK');
});
