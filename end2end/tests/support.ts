// Shared fixtures: client certificates of the test console, a page that fails the test on any script
// error, waiting for hydration, and signing in (the captcha's answer is read from the console's
// database, as only the server can).
import { test as base, expect, Page, Browser, BrowserContextOptions } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';

export const baseURL = process.env.E2E_BASE_URL ?? 'https://localhost:18443';
export const stateDir = process.env.E2E_STATE_DIR ?? path.join(__dirname, '..', '..', 'target', 'e2e');

/** The session of hualian.admin, signed in once by auth.setup.ts. */
export const adminState = path.join(stateDir, 'hualian.admin.json');

/** The session of hualian.finance, signed in once by auth.setup.ts. */
export const financeState = path.join(stateDir, 'hualian.finance.json');

/** The PKCS#12 certificate issued to `name` by end2end/run.sh. */
export function clientCertificate(name: string) {
  return {
    origin: new URL(baseURL).origin,
    pfxPath: path.join(stateDir, 'var', 'pki', 'issued', `${name}.p12`),
    passphrase: process.env.E2E_P12_PASSWORD ?? '',
  };
}

/** The demo operators' first password. */
export const demoPassword = process.env.E2E_DEMO_PASSWORD ?? '';

/** The password an operator chooses at their first sign-in in these tests. */
export function ownPassword(login: string) {
  return `Own-${login}-2026`;
}

export const test = base.extend<{ page: Page; expectedConsoleErrors: RegExp[] }>({
  /** Console errors a test expects (e.g. the 404 of a page that does not exist). */
  expectedConsoleErrors: [[], { option: true }],
  page: async ({ page, expectedConsoleErrors }, use) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !expectedConsoleErrors.some((re) => re.test(m.text()))) {
        errors.push(`console: ${m.text()}`);
      }
    });
    await use(page);
    expect(errors, 'the page logged errors').toEqual([]);
  },
});

export { expect };

/** Opens `url` and waits until the app is hydrated (interactive). */
export async function gotoHydrated(page: Page, url: string) {
  await page.goto(url);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

/**
 * A new browser context presenting `login`'s certificate, signed out unless `options` brings a
 * session. (Playwright gives new contexts the project's options, the administrator's session cookie
 * among them; sent with another certificate, the console would end that session.)
 */
export async function contextFor(browser: Browser, login: string, options: BrowserContextOptions = {}) {
  return browser.newContext({
    baseURL,
    clientCertificates: [clientCertificate(login)],
    storageState: { cookies: [], origins: [] },
    ...options,
  });
}

/** The answer of a captcha, from the console's database. */
export function captchaAnswer(id: string): string {
  const db = path.join(stateDir, 'var', 'vpos.db');
  const script =
    'import sqlite3, sys\n' +
    'row = sqlite3.connect(sys.argv[1]).execute("SELECT answer FROM captchas WHERE id = ?", (sys.argv[2],)).fetchone()\n' +
    'print(row[0] if row else "")';
  return execFileSync('python3', ['-c', script, db, id]).toString().trim();
}

/** Fills and submits the sign-in form of the current page (which must be /login, hydrated). */
export async function submitSignIn(page: Page, login: string, password: string) {
  const captchaId = await page.locator('input[name=captcha_id]').inputValue();
  await page.locator('#login_name').fill(login);
  await page.locator('#password').fill(password);
  await page.locator('#captcha_answer').fill(captchaAnswer(captchaId));
  await page.locator('#content form button[type=submit]').click();
  return captchaId;
}

/**
 * Signs `login` in on `page` (whose context presents their certificate) with the demo password and
 * goes through the forced password change, ending on the home page.
 */
export async function signInFirstTime(page: Page, login: string) {
  await gotoHydrated(page, '/login');
  await submitSignIn(page, login, demoPassword);
  await expect(page).toHaveURL(/\/password$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.locator('#current_password').fill(demoPassword);
  await page.locator('#new_password').fill(ownPassword(login));
  await page.locator('#confirm_password').fill(ownPassword(login));
  await page.locator('#content form button[type=submit]').click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator('[data-field=signed-in-as]')).toContainText(login);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

const vpos = process.env.E2E_VPOS ?? '';
export const gatewayURL = process.env.E2E_GATEWAY_URL ?? 'https://localhost:18444';

/** Runs the platform's command line on the test console's database. */
export function platform(...args: string[]): string {
  return execFileSync(vpos, args, { cwd: stateDir }).toString();
}

/** Sends a message to the terminal gateway as the acquirer's front end; the host's JSON answer. */
export function gateway(kind: string, message: object): Promise<{ code: string; [key: string]: unknown }> {
  const issued = path.join(stateDir, 'var', 'pki', 'issued');
  return new Promise((resolve, reject) => {
    const request = https.request(
      `${gatewayURL}/v1/${kind}`,
      {
        method: 'POST',
        cert: fs.readFileSync(path.join(issued, 'e2e-front-end.pem')),
        key: fs.readFileSync(path.join(issued, 'e2e-front-end.key.pem')),
        ca: fs.readFileSync(path.join(stateDir, 'var', 'pki', 'ca.pem')),
        headers: { 'content-type': 'application/json' },
      },
      (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve(JSON.parse(body)));
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify(message));
  });
}

/**
 * Signs `terminal` in at the gateway with `batch`. A batch the demo left open is closed first, as
 * the POS would: its answer is returned (the POS does not know what that batch held).
 */
export async function signInTerminal(terminal: string, batch: string) {
  let signIn = await gateway('sign-in', { terminal, batch });
  let closed = null;
  if (signIn.code === 'A8') {
    const none = { count: 0, amount_fen: 0 };
    closed = await gateway('sign-out', {
      terminal, batch: signIn.batch, totals: { sale: none, void: none, refund: none },
    });
    expect(closed.code).toBe('00');
    signIn = await gateway('sign-in', { terminal, batch });
  }
  expect(signIn.code).toBe('00');
  return closed;
}

/**
 * Writes an .xlsx workbook at `file` whose first sheet holds `rows` as text (inline strings), as a
 * spreadsheet program saves a filled-in template.
 */
export function writeXlsx(file: string, rows: string[][]) {
  const script = `
import json, sys, zipfile
from xml.sax.saxutils import escape
rows = json.loads(sys.argv[2])
def col(i):
    return chr(ord('A') + i)
cells = ''.join(
    '<row r="%d">%s</row>' % (r + 1, ''.join(
        '<c r="%s%d" t="inlineStr"><is><t>%s</t></is></c>' % (col(c), r + 1, escape(v))
        for c, v in enumerate(row) if v != ''))
    for r, row in enumerate(rows))
parts = {
  '[Content_Types].xml': '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
  '_rels/.rels': '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
  'xl/workbook.xml': '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
  'xl/_rels/workbook.xml.rels': '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
  'xl/worksheets/sheet1.xml': '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>' + cells + '</sheetData></worksheet>',
}
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    for name, text in parts.items():
        z.writestr(name, text.encode('utf-8'))
`;
  execFileSync('python3', ['-c', script, file, JSON.stringify(rows)]);
}
