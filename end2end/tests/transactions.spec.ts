// Finance staff at work: a transaction search with advanced filters, a summary tab and the Excel
// download; yesterday's settlements → one settlement → its transactions → a transaction → its slip.
import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Page } from '@playwright/test';
import { test as base, expect, gotoHydrated, contextFor, financeState } from './support';

/** A page of hualian.finance (signed in by auth.setup.ts) that fails the test on any script error. */
const test = base.extend<{ finance: Page }>({
  finance: async ({ browser }, use) => {
    const context = await contextFor(browser, 'hualian.finance', { storageState: financeState });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    await use(page);
    await context.close();
    expect(errors, 'the page logged errors').toEqual([]);
  },
});

/** The sheets of an .xlsx file and the number of rows of the first, read by Python's zipfile. */
function xlsxSummary(file: string): { sheets: string[]; rows: number } {
  const script =
    'import re, sys, zipfile\n' +
    'z = zipfile.ZipFile(sys.argv[1])\n' +
    'names = sorted(n for n in z.namelist() if n.startswith("xl/worksheets/sheet"))\n' +
    'rows = len(re.findall(r"<row ", z.read(names[0]).decode()))\n' +
    'print(",".join(names)); print(rows)';
  const [sheets, rows] = execFileSync('python3', ['-c', script, file]).toString().trim().split('\n');
  return { sheets: sheets.split(','), rows: Number(rows) };
}

async function hydrated(page: Page) {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

test('finance searches with advanced filters, reads a summary tab and downloads the result', async ({ finance: page }) => {
  await gotoHydrated(page, '/');
  await page.locator('nav').getByRole('link', { name: '交易查询', exact: true }).click();
  await expect(page).toHaveURL(/\/transactions$/);
  await expect(page.locator('#txn-table tbody tr').first()).toBeVisible();
  await expect(page.locator('[data-field=txn-total]')).toHaveText(/^共 [\d,]+ 笔交易$/);

  // The advanced panel: card organisation, card type and an amount range, all into the URL.
  await hydrated(page);
  await page.getByText('高级查询').click();
  await page.locator('#org').selectOption('visa');
  await page.locator('#card_type').selectOption('credit');
  await page.locator('#min').fill('1');
  await page.locator('#size').selectOption('20');
  await page.getByRole('button', { name: '查询' }).click();
  await expect(page).toHaveURL(/org=visa/);
  await expect(page).toHaveURL(/card_type=credit/);
  await expect(page).toHaveURL(/min=1/);
  await hydrated(page);
  await expect(page.locator('details.advanced')).toHaveAttribute('open', '');
  const orgs = await page.locator('#txn-table tbody tr td[data-col=org]').allTextContents();
  expect(orgs.length).toBeGreaterThan(0);
  expect(orgs.length).toBeLessThanOrEqual(20);
  expect(new Set(orgs)).toEqual(new Set(['Visa']));
  const total = Number((await page.locator('[data-field=txn-total]').textContent())?.match(/[\d,]+/)?.[0].replace(/,/g, ''));

  // The summary by card organisation: one line, the same count as the search.
  await page.getByRole('tab', { name: '按卡组织' }).click();
  await expect(page).toHaveURL(/sum=org/);
  await expect(page.locator('#summary-table')).toHaveAttribute('data-by', 'org');
  await expect(page.locator('#summary-table tbody tr')).toHaveCount(1);
  await expect(page.locator('#summary-table tbody tr th')).toHaveText('Visa');
  // Every transaction is counted once: sales, voids, refunds, and beside the money pre-auths, failed
  // and reversed ones.
  const foot = (await page.locator('#summary-table tfoot td').allTextContents()).map((t) => t.trim());
  const counted = [0, 2, 4, 7, 8, 9].reduce((sum, i) => sum + Number(foot[i].replace(/,/g, '')), 0);
  expect(counted).toBe(total);
  await page.getByRole('tab', { name: '按交易日期' }).click();
  await expect(page.locator('#summary-table')).toHaveAttribute('data-by', 'date');

  // The back button returns to the previous search.
  await page.goBack();
  await expect(page).toHaveURL(/sum=org/);

  // A direct download (end2end/run.sh sets the direct limit to 1,000 rows): an Excel file with the
  // rows and the filters' sheet.
  await hydrated(page);
  expect(total).toBeLessThanOrEqual(1000);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('[data-action=download]').click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^transactions-\d{8}-\d{6}\.xlsx$/);
  const file = await download.path();
  expect(fs.readFileSync(file).subarray(0, 2).toString('latin1')).toBe('PK');
  const book = xlsxSummary(file);
  expect(book.sheets).toHaveLength(2);
  expect(book.rows).toBe(total + 1);

  // A whole card number typed by mistake is masked before it leaves the browser.
  await page.locator('#card').fill('6228 4800 0000 1234');
  await page.getByRole('button', { name: '查询' }).click();
  await expect(page).toHaveURL(/card=622848(\*|%2A)+1234/);
  expect(page.url()).not.toContain('480000');
  await hydrated(page);
  await expect(page.locator('#card')).toHaveValue('622848******1234');

  // Bad input is named next to its field.
  await page.locator('#max').fill('12.3x');
  await page.getByRole('button', { name: '查询' }).click();
  await expect(page.locator('.field-error')).toHaveText('金额格式不正确：请填写数字，如 12.50，最多两位小数。');
});

test('a download larger than the direct limit is written in the background and waits in Downloads', async ({ finance: page }) => {
  await gotoHydrated(page, '/transactions?type=purchase');
  const total = Number((await page.locator('[data-field=txn-total]').textContent())?.match(/[\d,]+/)?.[0].replace(/,/g, ''));
  expect(total).toBeGreaterThan(1000);
  await expect(page.locator('[data-action=download]')).toHaveCount(0);
  await expect(page.locator('.export-job .hint')).toContainText(`共 ${total.toLocaleString('en-US')} 笔`);
  await page.locator('[data-action=start-export]').click();

  // The downloads list follows the job until the file is ready.
  await expect(page).toHaveURL(/\/downloads$/);
  const row = page.locator('#downloads-table tbody tr').first();
  await expect(row).toHaveAttribute('data-status', 'done', { timeout: 20_000 });
  await expect(row.locator('td').nth(2)).toHaveText(String(total));
  await expect(row.locator('progress')).toHaveAttribute('value', '100');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    row.locator('[data-action=fetch-export]').click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^transactions-\d{8}-\d{6}\.xlsx$/);
  const book = xlsxSummary(await download.path());
  expect(book.rows).toBe(total + 1);
});

test('yesterday\'s settlements lead to their transactions, a detail and a reprinted slip', async ({ finance: page }) => {
  await gotoHydrated(page, '/');
  await page.locator('nav').getByRole('link', { name: '昨日结算' }).click();
  await expect(page).toHaveURL(/\/settlements\?day=yesterday$/);
  const from = await page.locator('#from').inputValue();
  expect(from).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  await expect(page.locator('#to')).toHaveValue(from);
  const rows = page.locator('#settlement-table tbody tr');
  await expect(rows.first()).toBeVisible();
  await expect(rows.first().locator('td').first()).toHaveText(from);

  // One settlement: its figures and its reconciliation file, whose trailer matches them.
  await rows.first().locator('td').first().getByRole('link').click();
  await expect(page).toHaveURL(/\/settlements\/\d+$/);
  await hydrated(page);
  await expect(page.locator('[data-field=settlement-date]')).toHaveText(from);
  const [recon] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('[data-action=reconciliation]').click(),
  ]);
  expect(recon.suggestedFilename()).toMatch(/^VPOS_\d{15}_\d{8}\.txt$/);
  const lines = fs.readFileSync(await recon.path(), 'utf8').split('\r\n').filter((l) => l);
  expect(lines[0]).toMatch(/^H\|VPOSRECON\|1\|/);
  const trailer = lines[lines.length - 1].split('|');
  expect(trailer[0]).toBe('T');
  const [sales, refunds] = [Number(trailer[1]), Number(trailer[3])];
  // Refunds requested in the console count among the settlement's refunds but are no transactions:
  // the settlement shows them apart, and the whole ties out with its records to the fen.
  const consoleRefunds = lines.filter((l) => l.split('|')[3] === 'console_refund').length;
  await expect(page.locator('#tie-out')).toHaveAttribute('data-ties', 'true');
  await expect(page.locator('#tie-out [data-line=console-refunds] td').nth(2)).toHaveText(String(consoleRefunds));
  if (consoleRefunds > 0) {
    await expect(page.locator('[data-action=settlement-refunds]')).toHaveText('查看退货申请');
  } else {
    await expect(page.locator('[data-action=settlement-refunds]')).toHaveCount(0);
  }
  const net = await page.locator('[data-field=settlement-net]').textContent();
  await expect(page.locator('#tie-out [data-line=net] td').nth(3)).toHaveText(net ?? '');

  // Its transactions: the sales and refunds the file lists, and the same settlement beside them.
  await page.locator('[data-action=settlement-transactions]').click();
  await expect(page).toHaveURL(/\/transactions\?settlement=\d+$/);
  await expect(page.locator('#tie-out')).toHaveAttribute('data-ties', 'true');
  await expect(page.locator('#tie-out [data-line=sales] td').nth(2)).toHaveText(sales.toLocaleString('en-US'));
  await expect(page.locator('#tie-out [data-line=net] td').nth(3)).toHaveText(net ?? '');
  await expect(page.locator('[data-field=txn-total]')).toHaveText(`共 ${(sales + refunds - consoleRefunds).toLocaleString('en-US')} 笔交易`);
  await expect(page.locator('details.advanced')).toHaveAttribute('open', '');

  // A transaction's detail, then its slip: the same card, reference and amount, marked as a reprint.
  await page.locator('#txn-table tbody tr').first().locator('td').first().getByRole('link').click();
  await expect(page).toHaveURL(/\/transactions\/\d+$/);
  await hydrated(page);
  const card = await page.locator('[data-field=txn-card]').textContent();
  const reference = await page.locator('[data-field=txn-reference]').textContent();
  expect(card).toMatch(/^\d{6}\*+\d{4}$/);
  await page.locator('[data-action=reprint]').click();
  await expect(page).toHaveURL(/\/transactions\/\d+\/slip$/);
  await expect(page.locator('[data-field=slip-card]')).toHaveText(card ?? '');
  await expect(page.locator('[data-field=slip-reference]')).toHaveText(reference ?? '');
  await expect(page.locator('[data-field=slip-reprint]')).toContainText('REPRINT');
  await expect(page.locator('[data-field=slip-amount]')).toHaveText(/^¥[\d,]+\.\d{2}$/);

  // On paper: only the slip.
  await page.emulateMedia({ media: 'print' });
  await expect(page.locator('.topbar')).toBeHidden();
  await expect(page.locator('.sidebar')).toBeHidden();
  await expect(page.getByRole('button', { name: '打印' })).toBeHidden();
  await expect(page.locator('#slip')).toBeVisible();
  await page.screenshot({ path: 'test-results/slip-print.png', fullPage: true });
});

test('finance pages forwards and back, to the last page and to a day, always told where they are', async ({ finance: page }) => {
  await gotoHydrated(page, '/transactions?size=20');
  const position = page.locator('[data-field=page-position]');
  await expect(position).toHaveText(/^第 1–20 笔，共 [\d,]+ 笔$/);
  const total = Number((await position.textContent())!.match(/共 ([\d,]+) 笔/)![1].replace(/,/g, ''));
  expect(total).toBeGreaterThan(60);
  const ids = () => page.locator('#txn-table tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
  const first = await ids();
  await expect(page.locator('[data-page=prev]')).toHaveAttribute('aria-disabled', 'true');

  // Forwards twice, then back once: the second page again, told it is rows 21–40.
  await page.locator('a[data-page=next]').click();
  await expect(position).toHaveText(`第 21–40 笔，共 ${total.toLocaleString('en-US')} 笔`);
  const second = await ids();
  expect(second.filter((id) => first.includes(id))).toEqual([]);
  await page.locator('a[data-page=next]').click();
  await expect(position).toHaveText(`第 41–60 笔，共 ${total.toLocaleString('en-US')} 笔`);
  await page.locator('a[data-page=prev]').click();
  await expect(position).toHaveText(`第 21–40 笔，共 ${total.toLocaleString('en-US')} 笔`);
  expect(await ids()).toEqual(second);
  await page.locator('a[data-page=prev]').click();
  await expect(position).toHaveText(/^第 1–20 笔/);
  expect(await ids()).toEqual(first);

  // The last page ends at the total; the first page is one click away.
  await page.locator('a[data-page=last]').click();
  await expect(position).toHaveText(new RegExp(`–${total.toLocaleString('en-US')} 笔，共`));
  await expect(page.locator('[data-page=next]')).toHaveAttribute('aria-disabled', 'true');
  await page.locator('a[data-page=first]').click();
  await expect(position).toHaveText(/^第 1–20 笔/);

  // The day field speaks the console's language, not the browser's: its hint, and the browser's
  // own "fill this in" when it is left empty.
  const at = page.locator('.pager-jump input[name=at]');
  await expect(at).toHaveAttribute('placeholder', '年-月-日');
  await page.locator('.pager-jump button').click();
  expect(await at.evaluate((el: HTMLInputElement) => el.validationMessage)).toBe('请填写此项');
  await expect(page).not.toHaveURL(/at=/);

  // A day: the page starts with that day's newest transaction, the rows before it counted.
  const times = await page.locator('#txn-table tbody tr td:first-child').allTextContents();
  const day = new Date(Date.parse(times[0].slice(0, 10)) - 3 * 86400_000).toISOString().slice(0, 10);
  await page.locator('.pager-jump input[name=at]').fill(day);
  await page.locator('.pager-jump button').click();
  await expect(page).toHaveURL(new RegExp(`at=${day}`));
  await expect(page).toHaveURL(/size=20/);
  const top = await page.locator('#txn-table tbody tr td:first-child').first().textContent();
  expect(top!.slice(0, 10) <= day).toBe(true);
  await expect(position).not.toHaveText(/^第 1–/);
});

test('a bad filter is named with its rule beside its field, the value kept', async ({ finance: page }) => {
  await gotoHydrated(page, '/transactions?amount=abc&min=9&max=1&card=12&size=7');
  await expect(page.locator('#amount ~ .field-error')).toHaveText('金额格式不正确：请填写数字，如 12.50，最多两位小数。');
  await expect(page.locator('.field-error', { hasText: '“金额至”小于“金额从”。' })).toHaveCount(1);
  await expect(page.locator('.field-error', { hasText: '卡号请填写后 4 位数字' })).toHaveCount(1);
  // The size typed into the address stays selected, the rule beside it.
  await expect(page.locator('#size')).toHaveValue('7');
  await expect(page.locator('#size-error .field-error')).toHaveText('每页条数只能是 20、50、100 或 200。');
  await expect(page.locator('#amount')).toHaveValue('abc');
});
