import { test, expect, gotoHydrated, contextFor, submitSignIn, ownPassword } from './support';

test('an administrator adds an operator with roles; the new operator sees only their menu', async ({ page, browser }) => {
  // The newcomer opens the console with their new certificate: the sign-in page shows its fingerprint.
  const newcomer = await contextFor(browser, 'hualian.newbie');
  const theirs = await newcomer.newPage();
  await gotoHydrated(theirs, '/login');
  await expect(theirs.getByRole('status')).toContainText('证书未绑定操作员');
  const fingerprint = (await theirs.locator('[data-field=cert-fingerprint]').textContent())?.trim() ?? '';
  expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);

  // The administrator adds them as a transaction monitor and a refund approver.
  await gotoHydrated(page, '/');
  await page.getByRole('link', { name: '操作员管理' }).click();
  await expect(page).toHaveURL(/\/admin\/operators$/);
  await expect(page.locator('table[data-table=operators] tr[data-login="hualian.admin"]')).toBeVisible();
  await page.getByRole('link', { name: '添加操作员' }).click();
  await expect(page).toHaveURL(/\/admin\/operators\/new$/);
  // The merchant's prefix is fixed before the field: the administrator types the rest.
  await expect(page.locator('[data-field=login-prefix]')).toHaveText('hualian.');
  await page.locator('#login_name').fill('newbie');
  await page.locator('#display_name').fill('新员工');
  await page.getByLabel('交易监控员').check();
  await page.getByLabel('退货审核员').check();
  await page.getByRole('button', { name: '添加', exact: true }).click();
  const otp = (await page.locator('[data-field=one-time-password]').textContent())?.trim() ?? '';
  expect(otp).toHaveLength(16);

  // … and binds the certificate by its fingerprint.
  await page.getByRole('link', { name: '查看' }).click();
  await expect(page).toHaveURL(/\/admin\/operators\/\d+$/);
  await page.locator('#fingerprint').fill(fingerprint);
  await page.getByRole('button', { name: '绑定证书' }).click();
  await expect(page.locator('table[data-table=certificates] td.mono')).toHaveText(fingerprint);

  // The newcomer signs in with the one-time password, must change it, and sees only their menu.
  await gotoHydrated(theirs, '/login');
  await submitSignIn(theirs, 'hualian.newbie', otp);
  await expect(theirs).toHaveURL(/\/password$/);
  await expect(theirs.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await theirs.locator('#current_password').fill(otp);
  await theirs.locator('#new_password').fill(ownPassword('hualian.newbie'));
  await theirs.locator('#confirm_password').fill(ownPassword('hualian.newbie'));
  await theirs.locator('#content form button[type=submit]').click();
  await expect(theirs).toHaveURL(/\/$/);
  await expect(theirs.locator('[data-field=signed-in-as]')).toContainText('新员工');
  await expect(theirs.locator('nav a')).toHaveText(['首页', '交易查询', '今日交易', '昨日交易', '实时交易监控', '退货申请查询', '退货审核', '修改密码', '我的令牌', '常见问题']);
  await theirs.goto('/admin/operators');
  await expect(theirs.getByRole('alert')).toContainText('您没有执行此操作的权限');
  await newcomer.close();

  // The administrator's list shows them with their roles and last sign-in.
  await gotoHydrated(page, '/admin/operators');
  const row = page.locator('table[data-table=operators] tr[data-login="hualian.newbie"]');
  await expect(row).toContainText('交易监控员、退货审核员');
  await expect(row.locator('td').nth(4)).not.toBeEmpty();
});

test.describe('refusals', () => {
  test.use({ expectedConsoleErrors: [/status of 409/] });

  test('an administrator cannot disable or demote themself; the console says why', async ({ page }) => {
    await gotoHydrated(page, '/admin/operators');
    await page.locator('tr[data-login="hualian.admin"] a').click();
    await expect(page).toHaveURL(/\/admin\/operators\/\d+$/);
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    // No disable button for oneself; demoting oneself is refused with the reason.
    await expect(page.getByRole('button', { name: '停用' })).toHaveCount(0);
    await page.getByLabel('财务人员').check();
    await page.getByLabel('管理员').uncheck();
    await page.getByRole('button', { name: '保存' }).click();
    await expect(page.getByRole('alert')).toContainText('不能取消自己的管理员角色');
  });
});
