import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startAuthService } from '../auth/harness.ts';
import { mint } from '../auth/tokens.ts';
import type { TestService } from '../helpers/service.ts';
import { chromiumPath, DESKTOP, launchChromium, newPage, screenshot } from './chromium.ts';

describe.skipIf(!existsSync(chromiumPath) && !process.env.CI)('GraphiQL with authentication on', () => {
  let browser: Browser;
  let service: TestService;
  beforeAll(async () => {
    [browser, service] = await Promise.all([launchChromium(), startAuthService()]);
  });
  afterAll(async () => {
    await browser?.close();
    await service?.stop();
  });

  /** Replaces the text of one of GraphiQL's editors, as a person pasting it would. */
  async function paste(page: Page, editor: string, text: string) {
    await page.locator(editor).first().click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(text);
  }

  it('runs queries and subscriptions with the token in its headers editor', async () => {
    const token = await mint({ role: 'customer', customer: 'Grace', sub: 'grace' });
    const { page, errors, close } = await newPage(browser, DESKTOP);
    try {
      await page.goto(`${service.url}/graphql`);
      await page.locator('.graphiql-execute-button').waitFor({ timeout: 15_000 });
      // Without a token: refused.
      await page.locator('.graphiql-execute-button').click();
      await page.locator('.result-window').getByText('UNAUTHENTICATED').waitFor({ timeout: 10_000 });

      await page.getByText('Headers', { exact: true }).click();
      await paste(
        page,
        '.graphiql-editor-tool .graphiql-editor:visible',
        `{"Authorization": "Bearer ${token}"}`,
      );
      await paste(
        page,
        '.graphiql-query-editor .graphiql-editor',
        'subscription Watch { orderChanged { operation changedBy order { customerName productName } } }',
      );
      // GraphiQL parses the edited document (and its operation name) a moment later.
      await new Promise((r) => setTimeout(r, 1_000));
      await page.locator('.graphiql-execute-button').click();
      await new Promise((r) => setTimeout(r, 1_000));
      const writer = await mint({ role: 'writer', sub: 'ops' });
      for (const customerName of ['Linus', 'Grace']) {
        await gql(service, writer, 'mutation ($i: CreateOrderInput!) { createOrder(input: $i) { id } }', {
          i: { customerName, productName: `${customerName}'s compiler` },
        });
      }
      await page.locator('.result-window').getByText("Grace's compiler").waitFor({ timeout: 10_000 });
      await expect(page.locator('.result-window').textContent()).resolves.not.toContain('Linus');
      await screenshot(page, 'graphiql-token');
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});
