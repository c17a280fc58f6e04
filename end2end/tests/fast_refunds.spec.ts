// Fast refunds in the browser (华联优选 has the agreement; its fast-refund operator 杨帆): a fast
// refund of a purchase with a name the simulated bank rejects; the exception corrected and sent
// again until the bank pays it; the query by status with its total and its Excel download.
import { Page } from '@playwright/test';
import * as path from 'node:path';
import { test, expect, gotoHydrated, contextFor, signInFirstTime, submitSignIn, ownPassword, stateDir, writeXlsx } from './support';

/** A valid mainland resident ID (the standard's own example). */
const ID = '11010519491231002X';

/** Reloads `url` until `check` holds: the simulated bank answers within seconds. */
async function until(page: Page, url: string, check: () => Promise<boolean>) {
  await expect
    .poll(
      async () => {
        await gotoHydrated(page, url);
        return check();
      },
      { timeout: 20_000, intervals: [500, 1000] },
    )
    .toBe(true);
}

test('a fast refund rejected by the bank is corrected and resent until paid', async ({ browser }) => {
  test.setTimeout(120_000);
  const context = await contextFor(browser, 'hualian.fastrefund');
  const page = await context.newPage();
  await signInFirstTime(page, 'hualian.fastrefund');

  // The menu leads to the three pages; the search lists what may be refunded fast.
  await expect(page.locator('nav.sidebar a[href="/fast-refunds"]')).toHaveText('快速退货');
  await expect(page.locator('nav.sidebar a[href="/fast-refunds/exceptions"]')).toHaveText('快速退货异常列表');
  await gotoHydrated(page, '/fast-refunds');
  await expect(page.locator('#fast-refund-candidates tbody tr').first()).toBeVisible();
  await page.locator('[data-action=fast-refund]').first().click();
  await expect(page).toHaveURL(/\/fast-refunds\/new\?txn=\d+$/);
  const txn = new URL(page.url()).searchParams.get('txn');
  await expect(page.locator('#fast-refund-form')).toBeVisible();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');

  // A bad check character is named next to its field; nothing is sent.
  await page.locator('#amount').fill('0.01');
  await page.locator('#reason').fill('顾客退货');
  await page.locator('#name').fill('张错');
  await page.locator('#id_type').selectOption('resident_id');
  await page.locator('#id_number').fill('110105194912310021');
  await page.locator('#province').selectOption('31');
  await page.locator('#city').selectOption('3101');
  await page.locator('#branch').selectOption({ index: 1 });
  await page.locator('[data-action=submit-fast-refund]').click();
  await expect(page.locator('.field-error')).toHaveText('身份证号码的校验位不正确，请核对。');
  await page.locator('#id_number').fill(ID);
  await page.locator('[data-action=submit-fast-refund]').click();
  await expect(page.locator('[data-field=fast-refund-created]')).toContainText('快速退货已提交');
  await page.locator('[data-action=view-item]').click();
  await expect(page).toHaveURL(/\/fast-refunds\/\d+$/);
  const item = page.url();
  await expect(page.locator('[data-field=id-masked]')).toHaveText('110***********002X');

  // The bank rejects the name: the item waits in the exception list with the bank's reason.
  await until(page, item, async () => (await page.locator('[data-field=status] [data-status]').getAttribute('data-status')) === 'exception');
  await expect(page.locator('[data-field=bank-reason]')).toHaveText('R01 持卡人姓名与证件号码不符');
  await gotoHydrated(page, '/fast-refunds/exceptions');
  const row = page.locator(`.fast-refund-table tbody tr[data-id="${item.split('/').pop()}"]`);
  await expect(row.locator('[data-field=bank-reason]')).toHaveText('R01 持卡人姓名与证件号码不符');
  await row.locator('[data-action=correct]').click();

  // The correction form shows the whole number; the name is corrected and the item sent again.
  await expect(page.locator('#fast-refund-correction')).toBeVisible();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.locator('#id_number')).toHaveValue(ID);
  await expect(page.locator('#city')).toHaveValue('3101');
  await page.locator('#name').fill('张三');
  await page.locator('[data-action=resubmit]').click();
  await expect(page.locator('[data-field=fast-refund-resent]')).toBeVisible();
  await expect(page.locator('[data-field=resubmissions]')).toHaveText('1');
  await until(page, item, async () => (await page.locator('[data-field=status] [data-status]').getAttribute('data-status')) === 'success');
  const history = page.locator('#fast-refund-history li');
  await expect(history).toHaveCount(4);
  await expect(history.nth(2)).toContainText('持卡人姓名 张错 → 张三');

  // The query finds it among the successful ones of its sale (the demo's own fast refunds are of
  // other sales); the total is the rows' sum; Excel downloads.
  await gotoHydrated(page, `/fast-refunds/query?status=success&txn=${txn}`);
  await expect(page.locator('.fast-refund-table tbody tr')).toHaveCount(1);
  await expect(page.locator('[data-field=fast-refund-total]')).toContainText('共 1 笔，合计 ¥0.01');
  const download = page.waitForEvent('download');
  await page.locator('[data-action=download]').click();
  expect((await download).suggestedFilename()).toMatch(/^fast-refunds-.*\.xlsx$/);

  // The same in English.
  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.locator('h1')).toHaveText('Fast-refund query');
  await expect(page.locator('.fast-refund-table [data-status=success]')).toHaveText('Successful');
  await page.getByRole('button', { name: '中文' }).click();
  await context.close();
});

const HEADER = ['原交易参考号', '退货金额', '退货原因', '持卡人姓名', '证件类型', '证件号码', '开户银行', '开户省份', '开户城市', '开户支行'];

test('a batch file shows its two bad rows; fixed, its rows are sent as one batch', async ({ browser }) => {
  test.setTimeout(120_000);
  const context = await contextFor(browser, 'hualian.fastrefund');
  const page = await context.newPage();
  await gotoHydrated(page, '/login');
  await submitSignIn(page, 'hualian.fastrefund', ownPassword('hualian.fastrefund'));
  await expect(page).toHaveURL(/\/$/);

  // Two transactions that can be refunded fast: their reference numbers and banks.
  await gotoHydrated(page, '/fast-refunds');
  const rows = page.locator('#fast-refund-candidates tbody tr');
  await expect(rows.nth(1)).toBeVisible();
  const pick = async (n: number) => ({
    reference: ((await rows.nth(n).locator('td:nth-child(2)').textContent()) ?? '').trim(),
    bank: ((await rows.nth(n).locator('td:nth-child(4)').textContent()) ?? '').trim(),
  });
  const [a, b] = [await pick(0), await pick(1)];
  const line = (t: { reference: string; bank: string }, name: string, id: string, branch: string) => [
    t.reference, '0.01', '顾客退货', name, '居民身份证', id, t.bank, '上海市', '上海市', branch,
  ];
  const ID = '11010519491231002X';
  const bad = path.join(stateDir, 'batch-bad.xlsx');
  writeXlsx(bad, [
    HEADER,
    line(a, '张三', ID, '上海分行营业部'),
    line(b, '李四', '110105194912310021', '上海分行营业部'),
    line(a, '王五', ID, '上海人民路支行'),
    line(b, '赵六', ID, '北京分行营业部'),
  ]);

  // The template downloads; the file's preview lists the two bad rows and sends nothing.
  await gotoHydrated(page, '/fast-refunds/batch');
  const template = page.waitForEvent('download');
  await page.locator('[data-action=template]').click();
  expect((await template).suggestedFilename()).toBe('fast-refund-template.xlsx');
  await page.locator('#file').setInputFiles(bad);
  await page.locator('[data-action=upload]').click();
  await expect(page).toHaveURL(/\/fast-refunds\/batch\?upload=\d+$/);
  await expect(page.locator('[data-field=rows]')).toHaveText('4');
  await expect(page.locator('[data-field=valid]')).toHaveText('2');
  await expect(page.locator('[data-field=valid-total]')).toHaveText('¥0.02');
  const errors = page.locator('#batch-errors tbody tr');
  await expect(errors).toHaveCount(2);
  await expect(errors.nth(0)).toContainText('身份证号码的校验位不正确');
  await expect(errors.nth(0).locator('td').first()).toHaveText('3');
  await expect(errors.nth(1).locator('td').first()).toHaveText('5');
  await expect(errors.nth(1)).toContainText('J 开户支行');
  const report = page.waitForEvent('download');
  await page.locator('[data-action=error-report]').click();
  expect((await report).suggestedFilename()).toMatch(/^fast-refund-errors-.*\.xlsx$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.locator('[data-action=cancel-batch]').click();
  await expect(page).toHaveURL(/\/fast-refunds\/batch$/);

  // Fixed: the four rows are sent as one batch.
  const fixed = path.join(stateDir, 'batch-fixed.xlsx');
  writeXlsx(fixed, [
    HEADER,
    line(a, '张三', ID, '上海分行营业部'),
    line(b, '李四', ID, '上海分行营业部'),
    line(a, '王五', ID, '上海人民路支行'),
    line(b, '赵六', ID, '上海中山路支行'),
  ]);
  await page.locator('#file').setInputFiles(fixed);
  await page.locator('[data-action=upload]').click();
  await expect(page.locator('[data-field=valid]')).toHaveText('4');
  await expect(page.locator('[data-field=errors]')).toHaveText('0');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.locator('[data-action=submit-batch]').click();
  await expect(page.locator('[data-field=batch-created]')).toContainText('已提交 4 笔快速退货，合计 ¥0.04');
  await page.locator('[data-action=view-batch]').click();
  await expect(page).toHaveURL(/\/fast-refunds\/query\?batch=\d+$/);
  await expect(page.locator('.fast-refund-table tbody tr')).toHaveCount(4);
  await expect(page.locator('[data-field=fast-refund-total]')).toContainText('共 4 笔，合计 ¥0.04');
  await context.close();
});
