import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startAuthService } from '../auth/harness.ts';
import { mint } from '../auth/tokens.ts';
import type { TestService } from '../helpers/service.ts';
import {
  chromiumPath,
  DESKTOP,
  ensureDashboardBuilt,
  launchChromium,
  newPage,
  screenshot,
} from './chromium.ts';

const haveChromium = existsSync(chromiumPath);
if (!haveChromium && !process.env.CI) console.warn(`sign-in tests skipped: no Chromium at ${chromiumPath}`);

const LIVE_WITHIN_MS = 2_000;

describe.skipIf(!haveChromium && !process.env.CI)('dashboard with authentication on, in Chromium', () => {
  let browser: Browser;
  let service: TestService;
  let writer: string;
  const pages: { errors: string[]; close(): Promise<void> }[] = [];

  beforeAll(async () => {
    ensureDashboardBuilt();
    [browser, service] = await Promise.all([launchChromium(), startAuthService()]);
    writer = await mint({ role: 'writer', sub: 'ops' });
    for (const [customerName, productName] of [
      ['Ann', 'Lamp'],
      ['Bob', 'Chair'],
    ] as const)
      await create(customerName, productName);
  });
  afterAll(async () => {
    for (const page of pages) await page.close().catch(() => {});
    await browser?.close();
    await service?.stop();
  });

  const create = (customerName: string, productName: string) =>
    gql(service, writer, 'mutation ($i: CreateOrderInput!) { createOrder(input: $i) { id } }', {
      i: { customerName, productName },
    });
  const row = (page: Page, text: string) =>
    page.locator('tbody tr').filter({ has: page.locator('td').getByText(text, { exact: true }) });
  const live = (page: Page) => page.locator('.connection[data-phase="live"]').waitFor({ timeout: 10_000 });

  async function signIn(token: string): Promise<Page> {
    const opened = await newPage(browser, DESKTOP);
    pages.push(opened);
    const { page } = opened;
    await page.goto(service.url);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await live(page);
    return page;
  }

  it('asks for a token, refuses a bad one, and with a customer token shows only its orders, live', async () => {
    const opened = await newPage(browser, DESKTOP);
    pages.push(opened);
    const { page } = opened;
    await page.goto(service.url);
    await page.getByLabel('Token').fill(await mint({ role: 'customer', customer: 'Ann' }, { ttl: -5 }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(
      /refused this token: invalid token: expired/,
    );
    await screenshot(page, 'sign-in-refused');

    const token = await mint({ role: 'customer', customer: 'Ann', sub: 'ann' });
    await page.getByLabel('Token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await live(page);
    await expect(page.locator('.session').textContent()).resolves.toMatch(/ann · customer \(Ann\)/);
    await row(page, 'Lamp').waitFor();
    await expect(row(page, 'Chair').count()).resolves.toBe(0);

    // Someone else writes for both customers: only Ann's arrives, in the table and the feed.
    await create('Bob', 'Desk');
    await create('Ann', 'Rug');
    await row(page, 'Rug').waitFor({ timeout: LIVE_WITHIN_MS });
    await expect(row(page, 'Desk').count()).resolves.toBe(0);
    const feed = await page.locator('.feed-item').allInnerTexts();
    expect(feed.join('\n')).toMatch(/Rug/);
    expect(feed.join('\n')).not.toMatch(/Desk|Chair|Bob/);

    // It creates for itself only: the customer field is its own and cannot be changed.
    const form = page.getByRole('region', { name: 'New order' });
    const customer = form.getByLabel('Customer');
    await expect(customer.inputValue()).resolves.toBe('Ann');
    await expect(customer.getAttribute('readonly')).resolves.not.toBeNull();
    await form.getByLabel('Product').fill('Vase');
    await form.getByRole('button', { name: 'Create order' }).click();
    await row(page, 'Vase').waitFor({ timeout: LIVE_WITHIN_MS });
    // Its own writes are recorded under its token's subject.
    const vase = page.locator('.feed-item').filter({ hasText: 'Vase' });
    await vase.waitFor({ timeout: LIVE_WITHIN_MS });
    await expect(vase.textContent()).resolves.toMatch(/by api:ann/);
    await screenshot(page, 'signed-in-customer');

    // Kept for the tab's session, never in the URL: a reload stays signed in.
    expect(page.url()).not.toContain(token);
    await expect(page.evaluate(() => Object.values(sessionStorage))).resolves.toEqual([token]);
    await page.reload();
    await live(page);
    await row(page, 'Vase').waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await expect(page.evaluate(() => sessionStorage.length)).resolves.toBe(0);
    expect(opened.errors).toEqual([]);
  });

  it('a reader sees everything and is offered no create, edit or delete', async () => {
    const page = await signIn(await mint({ role: 'reader', sub: 'rita' }));
    await row(page, 'Chair').waitFor();
    await row(page, 'Lamp').waitFor();
    await expect(page.getByRole('region', { name: 'New order' }).count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: /^Edit/ }).count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: /^Delete/ }).count()).resolves.toBe(0);
    await expect(page.locator('.session').textContent()).resolves.toMatch(/rita · reader/);
  });

  it('when the token expires, the dashboard asks to sign in again', async () => {
    // Long enough to sign in on a busy machine; the socket is closed with 4403 when it runs out.
    const page = await signIn(await mint({ role: 'writer', sub: 'short' }, { ttl: 8 }));
    await page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 30_000 });
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/session has ended/);
  });
});
