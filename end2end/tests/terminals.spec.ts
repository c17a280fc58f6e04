import {
  test, expect, gotoHydrated, contextFor, submitSignIn, ownPassword, stateDir, gateway, gatewayURL, platform,
  signInTerminal,
} from './support';
import * as path from 'node:path';


test('an administrator groups two terminals and confines an operator to them; a disabled terminal is refused by the gateway', async ({ page, browser }) => {
  // Two of Hualian's terminals: the first two of its list.
  // The home page's count of terminals leads to them; so does the menu.
  await gotoHydrated(page, '/');
  await page.locator('[data-field=terminals] a').click();
  await expect(page).toHaveURL(/\/admin\/terminals$/);
  await expect(page.locator('nav a[aria-current=page]')).toHaveText('终端管理');
  const rows = page.locator('table[data-table=terminals] tbody tr');
  await expect(rows.first()).toBeVisible();
  const [first, second] = await Promise.all([0, 1].map((i) => rows.nth(i).getAttribute('data-terminal')));
  expect(first).toMatch(/^\d{8}$/);
  // The list's filters are in the address: a search by number is a link, and the form shows it.
  const form = page.locator('form[data-form=terminal-search]');
  await form.locator('input[name=search]').fill(first ?? '');
  await form.locator('button[type=submit]').click();
  await expect(page).toHaveURL(new RegExp(`search=${first}`));
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute('data-terminal', first ?? '');
  await gotoHydrated(page, `/admin/terminals?search=${first}&status=disabled`);
  await expect(form.locator('input[name=search]')).toHaveValue(first ?? '');
  await expect(form.locator('select[name=status]')).toHaveValue('disabled');
  await gotoHydrated(page, '/admin/terminals');

  // A new group with those two.
  await page.getByRole('link', { name: '终端组管理' }).click();
  await expect(page).toHaveURL(/\/admin\/groups$/);
  await page.locator('#group_name').fill('收银台A');
  await page.getByRole('button', { name: '新增终端组' }).click();
  await expect(page).toHaveURL(/\/admin\/groups\/\d+$/);
  await expect(page.locator('h1')).toHaveText('收银台A');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.locator(`input[name=add][value="${first}"]`).check();
  await page.locator(`input[name=add][value="${second}"]`).check();
  await page.getByRole('button', { name: '加入此组' }).click();
  await expect(page.locator('[data-list=group-terminals] li')).toHaveCount(2);

  // An operator made by the platform, confined to the group by the administrator.
  const created = platform('operator', 'create', '--merchant', 'M00000001', '--login', 'hualian.grouped',
    '--name', '收银组长', '--role', 'finance');
  const otp = /one-time password: (\S+)/.exec(created)?.[1] ?? '';
  expect(otp).not.toBe('');
  platform('operator', 'bind-cert', '--login', 'hualian.grouped', '--cert', 'var/pki/issued/hualian.grouped.pem');
  await gotoHydrated(page, '/admin/operators');
  await page.locator('tr[data-login="hualian.grouped"] a').click();
  await expect(page).toHaveURL(/\/admin\/operators\/\d+$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByLabel('指定终端组').check();
  await page.getByLabel('收银台A').check();
  await page.getByRole('button', { name: '保存' }).click();
  await expect(page.getByRole('status')).toContainText('已保存');

  // They see the two terminals' transactions and no other.
  const theirs = await contextFor(browser, 'hualian.grouped');
  const grouped = await theirs.newPage();
  await gotoHydrated(grouped, '/login');
  await submitSignIn(grouped, 'hualian.grouped', otp);
  await expect(grouped).toHaveURL(/\/password$/);
  await expect(grouped.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await grouped.locator('#current_password').fill(otp);
  await grouped.locator('#new_password').fill(ownPassword('hualian.grouped'));
  await grouped.locator('#confirm_password').fill(ownPassword('hualian.grouped'));
  await grouped.locator('#content form button[type=submit]').click();
  await expect(grouped).toHaveURL(/\/$/);
  await gotoHydrated(grouped, '/transactions');
  const terminalCells = grouped.locator('#txn-table tbody tr td:nth-child(3)');
  await expect(terminalCells.first()).toBeVisible();
  const seen = new Set(await terminalCells.allTextContents());
  expect([...seen].every((t) => t === first || t === second), `${[...seen]}`).toBe(true);
  await theirs.close();

  // The first terminal signs in at the gateway, then the administrator disables it: its next sale is
  // refused, and the terminal's page says it is disabled.
  const batch = '000901';
  // Had the demo left today's batch open, the POS closed it with no totals: out of balance.
  const closed = await signInTerminal(first ?? '', batch);
  if (closed) {
    expect(closed.balanced).toBe(false);
  }
  await gotoHydrated(page, '/admin/terminals');
  await page.locator(`tr[data-terminal="${first}"] a`).click();
  await expect(page).toHaveURL(/\/admin\/terminals\/\d+$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.locator('[data-field=sign-state]')).toContainText('已签到');
  await expect(page.locator('[data-field=last-sign-in]')).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d$/);
  await expect(page.locator(`[data-batch="${batch}"]`)).toBeVisible();
  await page.getByLabel('启用：终端可以受理交易').uncheck();
  await page.getByRole('button', { name: '保存' }).click();
  await expect(page.locator('[data-field=terminal-status]')).toHaveText('停用');
  // The simulator, run for that terminal now, is turned away at once …
  const issued = path.join(stateDir, 'var', 'pki', 'issued');
  const simulated = platform('simulate', '--gateway', gatewayURL,
    '--ca', path.join(stateDir, 'var', 'pki', 'ca.pem'),
    '--cert', path.join(issued, 'e2e-front-end.pem'), '--key', path.join(issued, 'e2e-front-end.key.pem'),
    '--terminals', first ?? '', '--rate', '5', '--duration', '1');
  expect(simulated).toContain(`${first}: sign-in refused with 58`);
  // … and the sale it had signed in for before is refused as well.
  const sale = await gateway('sale', {
    terminal: first, batch, voucher: '000001', amount_fen: 1200,
    card: { number: '6225880000000019', type: 'credit', bank: 'CMB' },
  });
  expect(sale.code).toBe('58');
  await page.getByLabel('启用：终端可以受理交易').check();
  await page.getByRole('button', { name: '保存' }).click();
  await expect(page.locator('[data-field=terminal-status]')).toHaveText('启用');
  const again = await gateway('sale', {
    terminal: first, batch, voucher: '000001', amount_fen: 1200,
    card: { number: '6225880000000019', type: 'credit', bank: 'CMB' },
  });
  expect(again.code).toBe('00');
  // The open batch on the terminal's page counts the sale.
  await page.reload();
  await expect(page.locator(`[data-batch="${batch}"]`)).toContainText('12.00');
});
