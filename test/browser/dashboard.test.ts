import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import {
  chromiumPath,
  DESKTOP,
  ensureDashboardBuilt,
  launchChromium,
  newPage,
  PHONE,
  screenshot,
} from './chromium.ts';

// CI installs Chromium (`apt-get install -y chromium`); elsewhere its absence skips, loudly.
const haveChromium = existsSync(chromiumPath);
if (!haveChromium && !process.env.CI) console.warn(`dashboard tests skipped: no Chromium at ${chromiumPath}`);

// A change reaches the page in milliseconds; the bound is for CI, where this file shares 2 cores with
// the whole suite on two databases (a dialog's update once took over 1 s there).
const LIVE_WITHIN_MS = 2_000;

describe.skipIf(!haveChromium && !process.env.CI)('dashboard in Chromium', () => {
  let browser: Browser;
  let database: TestDatabase;
  let service: TestService;
  const pages: { errors: string[]; close(): Promise<void> }[] = [];

  beforeAll(async () => {
    ensureDashboardBuilt();
    [browser, database] = await Promise.all([launchChromium(), createTestDatabase()]);
    service = await startTestService({ database });
  });

  afterAll(async () => {
    for (const page of pages) await page.close().catch(() => {});
    await browser?.close();
    await service?.stop();
    await database?.drop();
  });

  async function openDashboard(viewport = DESKTOP): Promise<Page> {
    const opened = await newPage(browser, viewport);
    pages.push(opened);
    await opened.page.goto(service.url);
    await live(opened.page);
    return opened.page;
  }

  const live = (page: Page, timeout = 10_000) =>
    page.locator('.connection[data-phase="live"]').waitFor({ timeout });
  /** The table row with a cell reading exactly `text`. */
  const row = (page: Page, text: string) =>
    page.locator('tbody tr').filter({ has: page.locator('td').getByText(text, { exact: true }) });
  const loaded = (page: Page) => page.locator('table[aria-busy="false"]').waitFor();
  const feedItems = (page: Page) => page.locator('.feed-item');

  it('shows an order created in another page, and one inserted by plain SQL, within a second', async () => {
    const [writer, watcher] = await Promise.all([openDashboard(), openDashboard()]);
    await expect(watcher.title()).resolves.toBe('Realtime Orders');

    const form = writer.getByRole('region', { name: 'New order' });
    await form.getByLabel('Customer').fill('Ada Lovelace');
    await form.getByLabel('Product').fill('Analytical Engine');
    await form.getByLabel('Quantity').fill('2');
    await form.getByLabel('Status').selectOption('PROCESSING');
    await form.getByRole('button', { name: 'Create order' }).click();
    await row(watcher, 'Ada Lovelace').waitFor({ timeout: LIVE_WITHIN_MS });
    await form
      .getByRole('status')
      .filter({ hasText: /Order #\d+ created/ })
      .waitFor();

    await database.sql(
      `INSERT INTO orders (customer_name, product_name, status) VALUES ('John Doe', 'Laptop', 'pending')`,
    );
    await Promise.all([
      row(watcher, 'John Doe').waitFor({ timeout: LIVE_WITHIN_MS }),
      row(writer, 'John Doe').waitFor({ timeout: LIVE_WITHIN_MS }),
    ]);

    await database.sql(`UPDATE orders SET status = 'shipped', quantity = 3 WHERE customer_name = 'John Doe'`);
    const update = watcher.locator('.feed-item.op-update').first();
    await update.waitFor({ timeout: LIVE_WITHIN_MS });
    await expect(update.locator('.diff').textContent()).resolves.toMatch(/Status\s+Pending\s*→\s*Shipped/);
    // Who wrote it: the test's plain pg client (no application_name), not the service.
    await expect(update.locator('.feed-actor').textContent()).resolves.toMatch(/^by \w+$/);
    await expect(watcher.locator('.feed-item.op-insert .feed-actor').last().textContent()).resolves.toMatch(
      /^by realtime-orders as /,
    );
    await expect(row(watcher, 'John Doe').textContent()).resolves.toMatch(/Shipped/);
    await expect(feedItems(watcher).count()).resolves.toBe(3);
    await screenshot(watcher, 'live-desktop');

    const phone = await openDashboard(PHONE);
    await row(phone, 'John Doe').waitFor();
    await screenshot(phone, 'live-phone');

    for (const page of pages) expect(page.errors).toEqual([]);
  });

  it('filters by status and pages through the orders', async () => {
    await database.sql(
      `INSERT INTO orders (customer_name, product_name, quantity, status)
       SELECT 'Customer ' || n, 'Product ' || n, n, (ARRAY['pending','processing','shipped','delivered','cancelled'])[1 + n % 5]
       FROM generate_series(1, 30) AS n`,
    );
    const page = await openDashboard();
    const table = page.getByRole('region', { name: 'Orders' });
    await loaded(page);
    await expect(table.locator('tbody tr').count()).resolves.toBe(20);
    await table.getByRole('button', { name: 'Next →' }).click();
    await loaded(page);
    await expect(table.locator('tbody tr').count()).resolves.toBe(12);
    await table.getByRole('button', { name: '← Previous' }).click();
    await row(page, 'Ada Lovelace').waitFor();

    await table.getByLabel('Status').selectOption('SHIPPED');
    await loaded(page);
    const statuses = await table.locator('tbody td[data-label="Status"]').allInnerTexts();
    expect(new Set(statuses)).toEqual(new Set(['Shipped']));
    // Leaving the filter, live: the row goes; entering it, live: it comes.
    await database.sql(`UPDATE orders SET status = 'delivered' WHERE customer_name = 'John Doe'`);
    await row(page, 'John Doe').waitFor({ state: 'detached', timeout: LIVE_WITHIN_MS });
    await database.sql(`UPDATE orders SET status = 'shipped' WHERE customer_name = 'Customer 1'`);
    await row(page, 'Customer 1').waitFor({ timeout: LIVE_WITHIN_MS });
    await screenshot(page, 'filtered-desktop');
  });

  it('edits with the version shown, and makes a conflict plain', async () => {
    const page = await openDashboard();
    await page.getByRole('button', { name: 'Edit order 1', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: /Edit order #1/ });
    await dialog.getByLabel('Product').fill('Difference Engine');
    // Someone else saves first.
    await database.sql(`UPDATE orders SET quantity = 5 WHERE id = 1`);
    await dialog.getByRole('status').waitFor({ timeout: LIVE_WITHIN_MS });
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    const alert = dialog.getByRole('alert');
    await expect(alert.textContent()).resolves.toMatch(/Not saved: someone else changed this order/);
    await expect(alert.textContent()).resolves.toMatch(/Quantity\s+2\s*→\s*5/);
    await screenshot(page, 'conflict-desktop');

    await dialog.getByRole('button', { name: 'Reload latest version' }).click();
    await expect.poll(() => dialog.getByLabel('Quantity').inputValue()).toBe('5');
    await dialog.getByLabel('Product').fill('Difference Engine');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect(row(page, 'Difference Engine').textContent()).resolves.toMatch(/v3/);

    await page.getByRole('button', { name: 'Delete order 1', exact: true }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete order #1?' });
    await confirm.getByRole('button', { name: 'Delete order' }).click();
    await row(page, 'Difference Engine').waitFor({ state: 'detached' });
    await page.locator('.feed-item.op-delete').first().waitFor({ timeout: LIVE_WITHIN_MS });
  });

  it('resumes after the server restarts, with what changed while it was down', async () => {
    const page = await openDashboard();
    const phone = await openDashboard(PHONE);
    // One page for all, so that new orders (the highest ids) are on it.
    for (const each of [page, phone]) await each.getByLabel('Per page').selectOption('50');
    await row(page, 'Customer 30').waitFor();
    const before = await feedItems(page).count();
    const port = Number(new URL(service.url).port);

    await service.stop();
    await page.locator('.connection[data-phase="reconnecting"]').waitFor({ timeout: 5_000 });
    await database.sql(
      `INSERT INTO orders (customer_name, product_name, status) VALUES ('While Down', 'Pager', 'pending')`,
    );
    await database.sql(`UPDATE orders SET status = 'cancelled' WHERE customer_name = 'Customer 2'`);
    await screenshot(page, 'reconnecting-desktop');
    await phone.locator('.connection[data-phase="reconnecting"]').waitFor({ timeout: 5_000 });
    await screenshot(phone, 'reconnecting-phone');

    service = await startTestService({ database, port });
    await live(page, 15_000);
    await row(page, 'While Down').waitFor({ timeout: 5_000 });
    await expect(row(page, 'Customer 2').textContent()).resolves.toMatch(/Cancelled/);
    // Exactly the two changes made meanwhile: nothing replayed twice, nothing lost.
    await expect.poll(() => feedItems(page).count()).toBe(before + 2);
    const cursors = await feedItems(page).evaluateAll((items) => items.map((item) => item.dataset.cursor));
    expect(new Set(cursors).size).toBe(cursors.length);
    expect(cursors).toEqual([...cursors].sort().reverse());
    await expect(row(page, 'While Down').count()).resolves.toBe(1);
    await screenshot(page, 'reconnected-desktop');
    await live(phone, 15_000);
    await row(phone, 'While Down').waitFor({ timeout: 5_000 });
    await screenshot(phone, 'reconnected-phone');

    // And it is live again, not merely caught up.
    await database.sql(
      `INSERT INTO orders (customer_name, product_name, status) VALUES ('After Restart', 'Radio', 'pending')`,
    );
    await row(page, 'After Restart').waitFor({ timeout: LIVE_WITHIN_MS });

    // A busy moment, for the README's picture.
    await database.sql(
      `UPDATE orders SET status = 'shipped' WHERE customer_name IN ('Customer 5', 'Customer 8')`,
    );
    await database.sql(`UPDATE orders SET quantity = 12, product_name = 'Product 3 (gift)' WHERE id = 5`);
    // For the picture only: liveness within a second is asserted above and in the first test.
    await page.locator('.feed-item.op-update', { hasText: 'gift' }).waitFor({ timeout: 5_000 });
    await screenshot(page, 'overview-desktop');
  });
});
