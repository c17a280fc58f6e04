// Refunds in the browser: a direct-mode refund from a transaction (墨香书店 refunds directly, no
// token); in approval mode (悦客咖啡, token required) a request by one operator, approved by another
// with a code of their token, a second one cancelled by its requester and a third rejected with a
// comment. Last, a refund the merchant's balance cannot cover (易购在线商城, token required) waits in
// the pending-clearing list and clears by itself once the merchant has paid the missing amount in.
import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { Page } from '@playwright/test';
import { test, expect, gotoHydrated, contextFor, ownPassword, signInFirstTime, stateDir } from './support';

/** RFC 4648 base32 (no padding) to bytes. */
function base32(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The RFC 6238 code of `secret` at step `step`. */
function codeAt(secret: Buffer, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', secret).update(counter).digest();
  const at = mac[mac.length - 1] & 0x0f;
  return ((mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000).toString().padStart(6, '0');
}

/** Hands out codes of one token, each step once (a code is accepted once, and never an older one). */
class Token {
  private last = 0;
  constructor(private secret: Buffer) {}
  async next(): Promise<string> {
    let step = Math.floor(Date.now() / 1000 / 30);
    if (step <= this.last) {
      // Within the accepted window the next step's code is taken (a phone slightly ahead).
      step = this.last + 1;
      if (step > Math.floor(Date.now() / 1000 / 30) + 1) {
        await new Promise((r) => setTimeout(r, 30_000));
      }
    }
    this.last = step;
    return codeAt(this.secret, step);
  }
}

/** Enrols a token for `login`, the signed-in operator of `page` (their password is asked again). */
async function enrol(page: Page, login: string): Promise<Token> {
  await gotoHydrated(page, '/token');
  await page.locator('#enrol-password').fill(ownPassword(login));
  await page.locator('[data-action=begin-enrolment]').click();
  const typed = (await page.locator('[data-field=token-secret]').textContent()) ?? '';
  const token = new Token(base32(typed));
  await page.locator('#code').fill(await token.next());
  await page.locator('[data-action=confirm-enrolment]').click();
  await expect(page.locator('[data-field=token-state]')).toHaveText('已启用');
  return token;
}

/**
 * Opens the refund form of the newest successful purchase of the signed-in operator's merchant that
 * can still be refunded (the demo data has refunded some in full: their page offers no refund),
 * passing over `skip` of them.
 */
async function refundFormOfAPurchase(page: Page, skip = 0) {
  await gotoHydrated(page, '/transactions?type=purchase&status=success');
  const details = await page
    .locator('#txn-table tbody tr')
    .evaluateAll((rows) => rows.map((r) => r.querySelector('a')?.getAttribute('href') ?? ''));
  let passed = 0;
  for (const detail of details) {
    await gotoHydrated(page, detail);
    await expect(page.locator('#txn-detail')).toBeVisible();
    if ((await page.locator('[data-action=refund]').count()) === 0 || passed++ < skip) continue;
    await page.locator('[data-action=refund]').click();
    await expect(page).toHaveURL(/\/refunds\/new\?txn=\d+$/);
    await expect(page.locator('#refund-form')).toBeVisible();
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    return;
  }
  throw new Error(`fewer than ${skip + 1} purchases on the first page can be refunded`);
}

/** `¥1,234.56` in fen. */
function fen(money: string): number {
  return Math.round(Number(money.replace(/[¥,\s]/g, '')) * 100);
}

/** Fen as the console writes money: `¥1,234.56`. */
function yuan(fen: number): string {
  const [whole, part] = (fen / 100).toFixed(2).split('.');
  return `¥${Number(whole).toLocaleString('en-US')}.${part}`;
}

async function fillRefund(page: Page, amount: string, reason: string) {
  await page.locator('#amount').fill(amount);
  await page.locator('#reason').selectOption(reason);
}

test('a refund operator refunds part of a purchase directly', async ({ browser }) => {
  const context = await contextFor(browser, 'moxiang.admin');
  const page = await context.newPage();
  await signInFirstTime(page, 'moxiang.admin');
  await refundFormOfAPurchase(page);
  await expect(page.locator('.hint').first()).toContainText('直接退货');
  const refundable = (await page.locator('[data-field=refundable]').textContent()) ?? '';
  expect(refundable).toMatch(/^¥[\d,]+\.\d\d$/);

  // Sub-fen digits are refused next to the field; more than refundable with the amount left.
  await fillRefund(page, '1.234', 'returned_goods');
  await page.locator('[data-action=submit-refund]').click();
  await expect(page.locator('.field-error')).toHaveText('金额格式不正确：请填写数字，如 12.50，最多两位小数。');
  await fillRefund(page, '99999999', 'returned_goods');
  await page.locator('[data-action=submit-refund]').click();
  await expect(page.getByRole('alert')).toContainText(`最多还可退 ${refundable}`);

  // A refund the form can judge is confirmed first: amount, card, what is left, clearing, token.
  const inFlight = fen((await page.locator('[data-field=in-flight]').textContent()) ?? '');
  await fillRefund(page, '0.01', 'returned_goods');
  await page.locator('[data-action=submit-refund]').click();
  await expect(page.locator('[data-field=confirm-amount]')).toHaveText('¥0.01');
  await expect(page.locator('[data-field=confirm-left]')).toHaveText(yuan(fen(refundable) - 1));
  await expect(page.locator('[data-field=confirm-token]')).toHaveText('否');
  await expect(page.locator('[data-field=confirm-clearing]')).toHaveAttribute('data-held', /^(true|false)$/);
  // Back to the form changes nothing; the second time it is sent.
  await page.locator('[data-action=back-to-form]').click();
  await expect(page.locator('[data-field=refund-created]')).toHaveCount(0);
  await page.locator('[data-action=submit-refund]').click();
  await page.locator('[data-action=confirm-refund]').click();
  await expect(page.locator('[data-field=refund-created]')).toContainText('退货申请已提交');
  await expect(page.locator('[data-field=refund-created] [data-status=submitted]')).toHaveText('已提交');
  // The form is read again: the amount is on its way and no longer refundable.
  await expect(page.locator('[data-field=in-flight]')).toHaveText(yuan(inFlight + 1));
  await expect(page.locator('[data-field=refundable]')).toHaveText(yuan(fen(refundable) - 1));

  await page.locator('[data-action=view-request]').click();
  await expect(page).toHaveURL(/\/refunds\/\d+$/);
  await expect(page.locator('[data-field=refund-amount]')).toHaveText('¥0.01');
  await expect(page.locator('#refund-history tbody tr')).toHaveCount(1);
  await expect(page.locator('#refund-decision')).toHaveCount(0);

  // The query lists it; the form of the same transaction shows the amount on its way.
  await gotoHydrated(page, '/refunds');
  await expect(page.locator('[data-field=refund-total]')).toHaveText('共 1 条退货申请');
  await page.locator('.refund-table tbody tr td:nth-child(2) a').first().click();
  await expect(page.locator('#txn-detail')).toBeVisible();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.locator('[data-action=refund]').click();
  await expect(page.locator('[data-field=in-flight]')).toHaveText('¥0.01');

  // The same pages in English: words, statuses and money.
  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.locator('h1')).toHaveText('Refund request');
  await expect(page.locator('[data-field=in-flight]')).toHaveText('¥0.01');
  await gotoHydrated(page, '/refunds');
  await expect(page.locator('h1')).toHaveText('Refund request query');
  await expect(page.locator('[data-field=refund-total]')).toHaveText('1 refund requests');
  await expect(page.locator('.refund-table [data-status=submitted]')).toHaveText('Submitted');
  await page.locator('.refund-table tbody tr td:first-child a').first().click();
  await expect(page.locator('#refund-history [data-status=submitted]')).toHaveText('Submitted');
  await gotoHydrated(page, '/refunds/pending-clearing');
  await expect(page.locator('h1')).toHaveText('Refunds pending clearing');
  await page.getByRole('button', { name: '中文' }).click();
  await expect(page.locator('h1')).toHaveText('待清算退货列表');
  await context.close();
});

test('in approval mode one operator requests, another approves or rejects with a token code', async ({ browser }) => {
  test.setTimeout(180_000);
  const requesterContext = await contextFor(browser, 'yueke.refund');
  const requester = await requesterContext.newPage();
  await signInFirstTime(requester, 'yueke.refund');
  const requesterToken = await enrol(requester, 'yueke.refund');
  const approverContext = await contextFor(browser, 'yueke.approver');
  const approver = await approverContext.newPage();
  await signInFirstTime(approver, 'yueke.approver');
  const approverToken = await enrol(approver, 'yueke.approver');

  // Three requests of 0.01 on three purchases, each confirmed with the requester's code.
  const ids: string[] = [];
  for (const skip of [0, 1, 2]) {
    await refundFormOfAPurchase(requester, skip);
    await expect(requester.locator('.hint').first()).toContainText('退货需审核');
    await fillRefund(requester, '0.01', 'customer_request');
    await requester.locator('#code').fill(await requesterToken.next());
    await requester.locator('[data-action=submit-refund]').click();
    await expect(requester.locator('[data-field=confirm-token]')).toHaveText('是');
    await expect(requester.locator('#refund-confirm')).toContainText('提交后等待审核员审核');
    await requester.locator('[data-action=confirm-refund]').click();
    await expect(requester.locator('[data-field=refund-created] [data-status=pending_approval]')).toHaveText('待审核');
    await requester.locator('[data-action=view-request]').click();
    await expect(requester).toHaveURL(/\/refunds\/\d+$/);
    ids.push(requester.url().split('/').pop() ?? '');
  }

  // The requester cancels the second while it waits.
  await gotoHydrated(requester, `/refunds/${ids[1]}`);
  await requester.locator('[data-action=cancel-refund]').click();
  await expect(requester.locator('#refund-detail [data-status=cancelled]')).toHaveText('已撤回');

  // The approver's list of requests awaiting approval holds the first and the third.
  await gotoHydrated(approver, '/');
  await approver.locator('nav').getByRole('link', { name: '退货审核', exact: true }).click();
  await expect(approver).toHaveURL(/\/refunds\/approvals$/);
  await expect(approver.locator('nav a[aria-current=page]')).toHaveText('退货审核');
  // The list arrives after the page: read it once the first request is in it.
  await expect(approver.locator(`.refund-table tbody tr[data-id="${ids[0]}"]`)).toBeVisible();
  const listed = await approver.locator('.refund-table tbody tr').evaluateAll((rows) =>
    rows.map((r) => r.getAttribute('data-id')),
  );
  expect(listed).toEqual(expect.arrayContaining([ids[0], ids[2]]));
  expect(listed).not.toContain(ids[1]);

  // Approve the first with a code …
  await gotoHydrated(approver, `/refunds/${ids[0]}`);
  await approver.locator('#comment').fill('核对无误');
  await approver.locator('#code').fill(await approverToken.next());
  await approver.locator('[data-action=approve]').click();
  await expect(approver.locator('#decision-confirm')).toContainText('确认批准这笔 ¥0.01 的退货');
  await approver.locator('[data-action=confirm-decision]').click();
  await expect(approver.locator('[data-field=refund-decided]')).toHaveText('已批准：退货已提交清算。');
  await expect(approver.locator('#refund-detail [data-status=submitted]')).toHaveText('已提交');
  await expect(approver.locator('#refund-history tbody tr')).toHaveCount(3);
  await expect(approver.locator('#refund-history')).toContainText('核对无误');
  await expect(approver.locator('#refund-decision')).toHaveCount(0);

  // … and reject the third: a rejection needs a comment.
  await gotoHydrated(approver, `/refunds/${ids[2]}`);
  await approver.locator('#code').fill(await approverToken.next());
  await approver.locator('[data-action=reject]').click();
  await approver.locator('[data-action=confirm-decision]').click();
  await expect(approver.locator('.field-error')).toHaveText('请填写此项');
  await approver.locator('#comment').fill('顾客已取消退货');
  await approver.locator('#code').fill(await approverToken.next());
  await approver.locator('[data-action=reject]').click();
  await expect(approver.locator('#decision-confirm')).toContainText('确认拒绝');
  await approver.locator('[data-action=confirm-decision]').click();
  await expect(approver.locator('[data-field=refund-decided]')).toHaveText('已拒绝这笔退货申请。');
  await expect(approver.locator('#refund-detail [data-status=rejected]')).toHaveText('已拒绝');

  // Nothing waits any more: the list says so.
  await gotoHydrated(approver, '/refunds/approvals');
  await expect(approver.locator('[data-field=approvals-none]')).toHaveText('目前没有等待审核的退货申请。');

  // The requester sees every outcome in the query.
  await gotoHydrated(requester, '/refunds');
  for (const [id, status] of [[ids[0], 'submitted'], [ids[1], 'cancelled'], [ids[2], 'rejected']]) {
    await expect(requester.locator(`.refund-table tr[data-id="${id}"] [data-status=${status}]`)).toBeVisible();
  }
  await requesterContext.close();
  await approverContext.close();
});

/** Runs the platform's command line on the console's database. */
function platform(args: string[]): string {
  return execFileSync(process.env.E2E_VPOS ?? '', args, { cwd: stateDir, env: process.env }).toString();
}

/**
 * The clearing run of tomorrow (a day without sales), as it runs the day after: `--as-of` makes the
 * command take that moment as now, so that tomorrow has ended.
 */
function clearTomorrow(): string {
  const asOf = new Date(Date.now() + 2 * 86_400_000).toISOString();
  return platform(['clear', '--date', shanghaiDate(1), '--as-of', asOf]);
}

/** The merchant's (Shanghai) date `days` from today, YYYY-MM-DD. */
function shanghaiDate(days: number): string {
  return new Date(Date.now() + (8 + 24 * days) * 3_600_000).toISOString().slice(0, 10);
}

test('a refund the balance cannot cover waits for clearing and clears once the balance grows', async ({ browser }) => {
  test.setTimeout(180_000);
  const context = await contextFor(browser, 'yigou.fastrefund');
  const page = await context.newPage();
  await signInFirstTime(page, 'yigou.fastrefund');
  const token = await enrol(page, 'yigou.fastrefund');

  // The whole of a purchase, confirmed with a code: direct mode submits it at once.
  await refundFormOfAPurchase(page);
  const refundable = (await page.locator('[data-field=refundable]').textContent()) ?? '';
  await fillRefund(page, refundable.replace(/[¥,]/g, ''), 'not_delivered');
  await page.locator('#code').fill(await token.next());
  await page.locator('[data-action=submit-refund]').click();
  await page.locator('[data-action=confirm-refund]').click();
  await expect(page.locator('[data-field=refund-created] [data-status=submitted]')).toHaveText('已提交');
  await page.locator('[data-action=view-request]').click();
  await expect(page).toHaveURL(/\/refunds\/\d+$/);
  const id = page.url().split('/').pop() ?? '';

  // The run after tomorrow clears tomorrow, a day without sales: the demo's settlements are paid
  // out, so the ledger cannot cover the refund and it is held.
  clearTomorrow();
  await gotoHydrated(page, '/');
  await page.locator('nav').getByRole('link', { name: '待清算退货列表', exact: true }).click();
  await expect(page).toHaveURL(/\/refunds\/pending-clearing$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const row = page.locator(`.refund-table tr[data-id="${id}"]`);
  await expect(row.locator('[data-status=pending_clearing]')).toHaveText('待清算');
  await expect(row.locator('[data-field=shortfall]')).toHaveText(/^¥[\d,]+\.\d\d$/);
  const missing = (await page.locator('[data-field=missing]').textContent()) ?? '';
  expect(missing).toMatch(/^¥[\d,]+\.\d\d$/);
  await page.screenshot({ path: `${stateDir}/pending-clearing.png`, fullPage: true });

  // Its page says why, in plain words.
  await row.locator('a').first().click();
  await expect(page.locator('[data-field=shortfall]')).toContainText('商户账户余额不足');

  // The merchant pays the missing amount in; the next run debits the refund by itself.
  platform(['merchant', 'deposit', '--code', 'M00000004', '--amount', missing.replace(/[¥,]/g, ''), '--memo', 'e2e']);
  clearTomorrow();
  await gotoHydrated(page, `/refunds/${id}`);
  await expect(page.locator('#refund-detail [data-status=cleared]')).toHaveText('已清算');
  await expect(page.locator('#refund-history')).toContainText('待清算');
  // The settlement that cleared it, by number: this operator may not open settlements.
  await expect(page.locator('[data-field=settlement]')).toHaveText(/^\d+$/);
  await expect(page.locator('[data-action=settlement]')).toHaveCount(0);
  await gotoHydrated(page, '/refunds/pending-clearing');
  await expect(page.locator(`.refund-table tr[data-id="${id}"]`)).toHaveCount(0);
  await context.close();

  // Finance follows it to the settlement, which counts it and lists it among its console refunds.
  const financeContext = await contextFor(browser, 'yigou.admin');
  const finance = await financeContext.newPage();
  await signInFirstTime(finance, 'yigou.admin');
  await gotoHydrated(finance, `/refunds/${id}`);
  await finance.locator('[data-action=settlement]').click();
  await expect(finance).toHaveURL(/\/settlements\/\d+$/);
  await expect(finance.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(finance.locator('#tie-out [data-line=console-refunds] td').nth(2)).toHaveText('1');
  await expect(finance.locator('#tie-out')).toHaveAttribute('data-ties', 'true');
  await expect(finance.locator('[data-action=settlement-refunds]')).toHaveText('查看退货申请');
  await finance.locator('[data-action=settlement-refunds]').click();
  await expect(finance).toHaveURL(/\/refunds\?settlement=\d+$/);
  await expect(finance.locator('[data-field=in-settlement]')).toBeVisible();
  await expect(finance.locator('.refund-table tbody tr')).toHaveCount(1);
  await expect(finance.locator(`.refund-table tr[data-id="${id}"] [data-status=cleared]`)).toHaveText('已清算');
  await financeContext.close();
});
