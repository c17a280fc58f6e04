// How long the console takes to become interactive in the browser, cold (a new browser profile: no
// cache) and cached, for the sign-in page (a newcomer's first visit) and the home page; beside it, in
// the same run, the same pages without JavaScript (the server's HTML and stylesheet alone): what the
// browser code adds. Timed by the browser's clock from the navigation's start.
import { test, expect, Page, BrowserContext } from '@playwright/test';
import { contextFor, signInFirstTime } from '../tests/support';

const RUNS = Number(process.env.PAGE_RUNS ?? 8);

/** Marks the moment the page says it is hydrated, by the page's own clock. */
const WATCH_HYDRATION = `
  new MutationObserver((_, observer) => {
    if (document.body && document.body.dataset.hydrated === 'true') {
      window.__hydratedAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-hydrated'] });
`;

type Timing = { firstByte: number; html: number; wasm: number; interactive: number };

async function visit(page: Page, url: string): Promise<Timing> {
  await page.goto(url);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const wasm = performance.getEntriesByType('resource').find((r) => r.name.endsWith('.wasm')) as
      | PerformanceResourceTiming
      | undefined;
    return {
      firstByte: nav.responseStart,
      html: nav.responseEnd,
      wasm: wasm ? wasm.responseEnd : 0,
      interactive: (window as unknown as { __hydratedAt: number }).__hydratedAt,
    };
  });
}

/** The time to the load event of the page without JavaScript, by the browser's clock. */
async function withoutScript(context: BrowserContext, url: string): Promise<number> {
  const page = await context.newPage();
  await page.goto(url, { waitUntil: 'load' });
  const loaded = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    return nav.loadEventEnd;
  });
  await page.close();
  return loaded;
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  return `${median.toFixed(0)} ms (${sorted[0].toFixed(0)}–${sorted[sorted.length - 1].toFixed(0)})`;
}

function report(name: string, timings: Timing[]) {
  const pick = (k: keyof Timing) => summary(timings.map((t) => t[k]));
  console.log(`  ${name}: interactive ${pick('interactive')}; first byte ${pick('firstByte')}, ` +
    `page received ${pick('html')}, browser code received ${pick('wasm')}`);
}

test('page load: sign-in page and home page, cold and cached', async ({ browser }) => {
  // A session of the demo administrator for the home page.
  const signing = await contextFor(browser, 'hualian.admin');
  await signInFirstTime(await signing.newPage(), 'hualian.admin');
  const session = await signing.storageState();
  await signing.close();

  const pages = [
    { name: 'sign-in page (/login, signed out)', url: '/login', login: 'hualian.finance', state: undefined },
    { name: 'home page (/, signed in)', url: '/', login: 'hualian.admin', state: session },
  ];
  console.log(`page load, ${RUNS} runs each, median (min–max), by the browser's clock from the navigation's start`);
  for (const { name, url, login, state } of pages) {
    const plain: number[] = [];
    const cold: Timing[] = [];
    const cached: Timing[] = [];
    for (let i = 0; i < RUNS; i++) {
      const noScript = await contextFor(browser, login, { javaScriptEnabled: false, ...(state ? { storageState: state } : {}) });
      plain.push(await withoutScript(noScript, url));
      await noScript.close();
      const context = await contextFor(browser, login, state ? { storageState: state } : {});
      await context.addInitScript(WATCH_HYDRATION);
      const page = await context.newPage();
      cold.push(await visit(page, url));
      cached.push(await visit(page, url));
      await context.close();
    }
    console.log(`${name}:`);
    console.log(`  without JavaScript (the reference): loaded ${summary(plain)}`);
    report('cold cache', cold);
    report('cached', cached);
  }
});
