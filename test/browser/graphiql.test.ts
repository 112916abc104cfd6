import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/service.ts';
import { chromiumPath, DESKTOP, launchChromium, newPage, screenshot } from './chromium.ts';

describe.skipIf(!existsSync(chromiumPath) && !process.env.CI)('GraphiQL in Chromium', () => {
  let browser: Browser;
  let service: TestService;
  beforeAll(async () => {
    [browser, service] = await Promise.all([launchChromium(), startTestService()]);
  });
  afterAll(async () => {
    await browser?.close();
    await service?.stop();
  });

  it('opens at /graphql without the internet, and runs its example query', async () => {
    const html = await (await fetch(`${service.url}/graphql`, { headers: { accept: 'text/html' } })).text();
    expect(html).not.toMatch(/https?:\/\/(unpkg|cdn)/);

    await service.graphql(
      'mutation { createOrder(input: { customerName: "Grace", productName: "Compiler" }) { id } }',
    );
    const { page, errors, close } = await newPage(browser, DESKTOP);
    try {
      await page.goto(`${service.url}/graphql`);
      await page.locator('.graphiql-execute-button').click({ timeout: 15_000 });
      await page.locator('.result-window').getByText('changeCursor').waitFor({ timeout: 10_000 });
      await expect(page.locator('.result-window').textContent()).resolves.toContain('Grace');
      await screenshot(page, 'graphiql');
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});
