import { createHmac } from 'node:crypto';
import { test, expect, gotoHydrated, contextFor, ownPassword, signInFirstTime } from './support';

/** RFC 4648 base32 (no padding) to bytes. */
function base32(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${c}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The RFC 6238 code (SHA-1, 30 s, 6 digits) of `secret`, `offset` steps from now. */
function totp(secret: Buffer, offset = 0): string {
  const step = Math.floor(Date.now() / 1000 / 30) + offset;
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', secret).update(counter).digest();
  const at = mac[mac.length - 1] & 0x0f;
  const value = (mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, '0');
}

test('an operator enrols a token by its QR code and a code; a code works once', async ({ browser }) => {
  const context = await contextFor(browser, 'hualian.pudong');
  const page = await context.newPage();
  await signInFirstTime(page, 'hualian.pudong');

  await page.getByRole('link', { name: '我的令牌' }).click();
  await expect(page).toHaveURL(/\/token$/);
  await expect(page.locator('[data-field=token-state]')).toHaveText('未启用');
  // The password is asked again before the secret is shown.
  await page.locator('#enrol-password').fill('not-my-password-1');
  await page.locator('[data-action=begin-enrolment]').click();
  await expect(page.locator('.field-error')).toHaveText('当前密码不正确');
  await expect(page.locator('.qr')).toHaveCount(0);
  await page.locator('#enrol-password').fill(ownPassword('hualian.pudong'));
  await page.locator('[data-action=begin-enrolment]').click();
  await expect(page.locator('.qr svg')).toBeVisible();
  await expect(page.getByRole('status')).toContainText('只显示这一次');
  const typed = (await page.locator('[data-field=token-secret]').textContent()) ?? '';
  expect(typed.replace(/\s/g, '')).toMatch(/^[A-Z2-7]{32}$/);
  const secret = base32(typed);

  // A wrong code is refused next to the field; the right one enrols the token.
  const right = totp(secret);
  const wrong = right === '000000' ? '000001' : '000000';
  await page.locator('#code').fill(wrong);
  await page.locator('[data-action=confirm-enrolment]').click();
  await expect(page.locator('.field-error')).toHaveText('动态密码不正确。');
  await page.locator('#code').fill(right);
  await page.locator('[data-action=confirm-enrolment]').click();
  await expect(page.locator('[data-field=token-state]')).toHaveText('已启用');
  await expect(page.locator('.qr')).toHaveCount(0);

  // The next step's code is accepted once; the same code again is refused as used.
  const next = totp(secret, 1);
  await page.locator('#code').fill(next);
  await page.locator('[data-action=try-code]').click();
  await expect(page.getByRole('status')).toContainText('动态密码正确');
  await page.locator('#code').fill(next);
  await page.locator('[data-action=try-code]').click();
  await expect(page.locator('.field-error')).toHaveText(/已使用过/);

  // Reloading shows the state, never the secret again.
  await gotoHydrated(page, '/token');
  await expect(page.locator('[data-field=token-state]')).toHaveText('已启用');
  await expect(page.locator('[data-field=token-secret]')).toHaveCount(0);
  await context.close();
});
