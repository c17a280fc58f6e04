import {
  test,
  expect,
  gotoHydrated,
  contextFor,
  submitSignIn,
  signInFirstTime,
  demoPassword,
  ownPassword,
} from './support';

test('first sign-in forces a password change; the menu fits the role; sign-out ends the session', async ({ browser }) => {
  const context = await contextFor(browser, 'hualian.refund');
  const page = await context.newPage();

  // Not signed in: every page leads to the sign-in page.
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.locator('[data-field=cert-subject]')).toHaveText('hualian.refund');

  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await submitSignIn(page, 'hualian.refund', demoPassword);
  await expect(page).toHaveURL(/\/password$/);
  await expect(page.getByRole('status')).toContainText('请先设置自己的新密码');
  // Only the password page (and help) are open until then.
  await page.goto('/');
  await expect(page).toHaveURL(/\/password$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.locator('nav a')).toHaveText(['修改密码', '常见问题']);

  // The rules tick as the new password is typed; a weak one is refused by the server too.
  await page.locator('#current_password').fill(demoPassword);
  await page.locator('#new_password').fill('short');
  await expect(page.locator('li[data-rule=TooShort]')).not.toHaveClass(/ok/);
  await page.locator('#confirm_password').fill('short');
  await page.locator('#content form button[type=submit]').click();
  await expect(page.locator('.field-error', { hasText: '至少 12 个字符' })).toBeVisible();

  const mine = ownPassword('hualian.refund');
  await page.locator('#new_password').fill(mine);
  await expect(page.locator('li[data-rule=TooShort]')).toHaveClass(/ok/);
  await expect(page.locator('li[data-rule=NeedsDigit]')).toHaveClass(/ok/);
  await page.locator('#confirm_password').fill(mine);
  await page.locator('#content form button[type=submit]').click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator('[data-field=merchant-name]')).toHaveText('华联优选超市连锁有限公司');

  // A refund operator sees the transaction and refund queries and no system management.
  await expect(page.locator('nav a')).toHaveText(['首页', '交易查询', '今日交易', '昨日交易', '退货申请查询', '待清算退货列表', '修改密码', '我的令牌', '常见问题']);
  await page.goto('/admin/roles');
  await expect(page.getByRole('alert')).toContainText('您没有执行此操作的权限');

  await page.getByRole('button', { name: '退出' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
  await context.close();
});

test('five wrong passwords lock the account; the answer never says why', async ({ browser }) => {
  const context = await contextFor(browser, 'hualian.monitor', { locale: 'en' });
  const page = await context.newPage();
  await gotoHydrated(page, '/login');

  const refusal = 'Sign-in failed: the login name, password or certificate is not right, or the account is locked or disabled.';
  let captchaId = '';
  for (let attempt = 1; attempt <= 5; attempt++) {
    // Each try needs the new captcha the page fetched after the last refusal.
    await expect(page.locator('input[name=captcha_id]')).not.toHaveValue(captchaId);
    captchaId = await submitSignIn(page, 'hualian.monitor', `wrong-password-${attempt}`);
    await expect(page.getByRole('alert')).toHaveText(new RegExp(refusal.replace(/[.]/g, '\\.')));
    await expect(page.locator('#password')).toHaveValue('');
  }
  // Locked: the right password gets the same answer.
  await expect(page.locator('input[name=captcha_id]')).not.toHaveValue(captchaId);
  await submitSignIn(page, 'hualian.monitor', demoPassword);
  await expect(page.getByRole('alert')).toContainText('Sign-in failed');
  await expect(page).toHaveURL(/\/login$/);
  await context.close();
});

test('an administrator sees the role and function matrix', async ({ page }) => {
  await gotoHydrated(page, '/');
  await page.getByRole('link', { name: '人员角色与功能' }).click();
  await expect(page).toHaveURL(/\/admin\/roles$/);
  const matrix = page.locator('table[data-table=role-matrix]');
  await expect(matrix.locator('thead th')).toHaveCount(7);
  await expect(matrix.locator('tr[data-function="refund.approve"] td.granted')).toHaveCount(1);
  await expect(matrix.locator('tr[data-function="admin.operators"] td.granted')).toHaveCount(1);
  await expect(matrix.locator('tr[data-function="transaction.query"] td.granted')).toHaveCount(6);
  await expect(matrix.locator('tr[data-function="fast_refund.batch"] td.granted')).toHaveCount(1);

  // A page the administrator's roles do not grant says so and who can change it, not "出错了".
  await gotoHydrated(page, '/downloads');
  await expect(page.locator('[data-field=downloads-about]')).toContainText('后台生成');
  await expect(page.getByRole('alert')).toContainText('无权使用此功能');
  await expect(page.getByRole('alert')).toContainText('管理员');
  await expect(page.getByRole('alert')).not.toContainText('出错了');
});

test('an operator can change their own password again later', async ({ browser }) => {
  const context = await contextFor(browser, 'hualian.approver', { locale: 'en' });
  const page = await context.newPage();
  await signInFirstTime(page, 'hualian.approver');
  await page.getByRole('link', { name: 'Change password' }).click();
  await expect(page).toHaveURL(/\/password$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.locator('#current_password').fill(ownPassword('hualian.approver'));
  // One of the last four passwords is refused.
  await page.locator('#new_password').fill(demoPassword);
  await page.locator('#confirm_password').fill(demoPassword);
  await page.locator('#content form button[type=submit]').click();
  await expect(page.locator('.field-error', { hasText: 'Not one of your last 4 passwords' })).toBeVisible();
  await page.locator('#new_password').fill('Another-password-77');
  await page.locator('#confirm_password').fill('Another-password-77');
  await page.locator('#content form button[type=submit]').click();
  await expect(page.getByRole('status')).toContainText('Your password has been changed.');
  await context.close();
});
