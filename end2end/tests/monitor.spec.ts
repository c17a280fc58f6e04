// The transaction monitor: a sale sent through the gateway shows on an open monitor within a second,
// marked new, and opens its detail on a click; paused, new sales are counted and shown on resume;
// without JavaScript the page still lists the latest transactions with a refresh link.
import { test, expect, gotoHydrated, gateway, signInTerminal, contextFor, signInFirstTime } from './support';

const CARD = { number: '6225880000000019', type: 'credit', bank: 'CMB' };

test('a sale sent through the gateway appears on the open monitor and opens its detail', async ({ browser }) => {
  // A merchant of its own: no other browser test sends sales to its terminals.
  const context = await contextFor(browser, 'yunqi.admin');
  const page = await context.newPage();
  await signInFirstTime(page, 'yunqi.admin');
  await gotoHydrated(page, '/monitor');
  await expect(page.locator('nav a[href="/monitor"]')).toHaveAttribute('aria-current', 'page');
  const state = page.locator('[data-field=monitor-state]');
  await expect(state).toHaveAttribute('data-state', 'live');
  await expect(state).toHaveText('实时更新中');
  await expect(page.locator('#monitor-table tbody tr')).toHaveCount(20);
  const terminal = (await page.locator('select[name=terminal] option').last().getAttribute('value')) ?? '';
  expect(terminal).not.toBe('');
  const batch = '000902';
  await signInTerminal(terminal, batch);

  const sale = await gateway('sale', { terminal, batch, voucher: '000001', amount_fen: 4321, card: CARD });
  expect(sale.code).toBe('00');
  const row = page.locator('#monitor-table tbody tr').first();
  await expect(row).toContainText('43.21', { timeout: 1000 });
  await expect(row).toHaveClass(/fresh/);
  await expect(row).toContainText(terminal);
  await expect(row).toContainText('622588******0019');
  await expect(row.locator('td').last()).toHaveText('00');
  await expect(page.locator('#monitor-table tbody tr')).toHaveCount(20);

  // Paused: the next sale waits, counted, and shows on resume.
  await page.getByRole('button', { name: '暂停' }).click();
  const second = await gateway('sale', { terminal, batch, voucher: '000002', amount_fen: 1234, card: CARD });
  expect(second.code).toBe('00');
  await expect(state).toHaveText('已暂停 · 1 笔新交易待显示');
  await expect(page.locator('#monitor-table tbody tr').first()).toContainText('43.21');
  await page.getByRole('button', { name: '继续' }).click();
  await expect(page.locator('#monitor-table tbody tr').first()).toContainText('12.34');
  await expect(state).toHaveText('实时更新中');

  // A click on the time opens the transaction.
  await page.locator('#monitor-table tbody tr').nth(1).locator('td a').first().click();
  await expect(page).toHaveURL(new RegExp(`/transactions/${Number(sale.reference)}$`));
  await expect(page.locator('#content')).toContainText('43.21');
  await context.close();
});

test('without JavaScript the monitor lists the latest transactions with a refresh link', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto('/monitor');
  await expect(page.locator('#monitor-table tbody tr')).toHaveCount(20);
  await expect(page.locator('[data-field=monitor-state]')).toHaveAttribute('data-state', 'static');
  await page.locator('a[data-action=refresh]').click();
  await expect(page).toHaveURL(/\/monitor$/);
  await expect(page.locator('#monitor-table tbody tr')).toHaveCount(20);
  await context.close();
});
