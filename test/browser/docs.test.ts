import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { AppDeps } from '../../src/agent/server/server-env.ts';
import { listenApp } from '../agent/server/listen-app.ts';
import { testApp } from '../agent/server/server-fixtures.ts';

const CHROMIUM = '/usr/bin/chromium';
const UI_TIMEOUT_MS = 10_000;
const TEST_TIMEOUT_MS = 20_000;
const QUESTION = { query: 'What is OpenTelemetry?', session_id: 'docs-session' };

/** Opens /docs with every request beyond the server refused; returns what was refused. */
async function openDocs(page: Page, url: string): Promise<string[]> {
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  const blocked: string[] = [];
  await page.route('**/*', (route) => {
    if (new URL(route.request().url()).hostname === '127.0.0.1') return route.continue();
    blocked.push(route.request().url());
    return route.abort('internetdisconnected');
  });
  await page.goto(`${url}/docs`);
  return blocked;
}

/** Expands POST /chat, "Try it out", fills the body, "Execute"; returns the status and body Swagger shows. */
async function tryChat(page: Page): Promise<{ status: string; shown: string }> {
  await page.locator('.opblock-summary-path[data-path="/chat"]').click();
  const operation = page.locator('.opblock-post', { has: page.locator('[data-path="/chat"]') });
  await operation.getByRole('button', { name: 'Try it out' }).click();
  await operation.locator('textarea.body-param__text').fill(JSON.stringify(QUESTION));
  await operation.getByRole('button', { name: 'Execute' }).click();
  const row = operation.locator('.live-responses-table tbody .response');
  await row.waitFor();
  // What Swagger shows is the rendered text; textContent would add the text of hidden elements.
  return {
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text, as above
    status: await row.locator('.response-col_status').innerText(),
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text, as above
    shown: await row.locator('.response-col_description').innerText(),
  };
}

describe('/docs in a real browser', () => {
  let browser: Browser;
  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  after(async () => {
    await browser?.close();
  });

  async function withServer(
    deps: Partial<AppDeps>,
    work: (url: string, page: Page, agent: ReturnType<typeof testApp>['agent']) => Promise<void>,
  ) {
    const { app, agent } = testApp(deps);
    const server = await listenApp(app);
    const page = await browser.newPage();
    try {
      await work(server.url, page, agent);
    } finally {
      await page.close();
      await server.close();
    }
  }

  it('loads with no internet access, and "Try it out" on POST /chat shows the answer', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withServer({}, async (url, page, agent) => {
      const blocked = await openDocs(page, url);
      const { status, shown } = await tryChat(page);
      assert.equal(status, '200');
      assert.match(shown, /stub answer to: What is OpenTelemetry\?/);
      assert.match(shown, /"trace_id": "tr-[0-9a-f]{32}"/);
      assert.deepEqual(agent.requests, [QUESTION]);
      assert.deepEqual(blocked, [], 'the page asked for nothing beyond the server');
    });
  });

  it("with --auth-token, the page still loads and its Authorize button's bearer token gets the call through", {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const token = 'docs-browser-token-42';
    await withServer({ authToken: token }, async (url, page, agent) => {
      await openDocs(page, url);
      await page.getByRole('button', { name: 'Authorize' }).first().click();
      const dialog = page.locator('.modal-ux');
      await dialog.locator('input').fill(token);
      await dialog.locator('button.authorize').click();
      await dialog.locator('button.btn-done').click();
      const { status, shown } = await tryChat(page);
      assert.equal(status, '200');
      assert.match(shown, /stub answer to: What is OpenTelemetry\?/);
      assert.equal(agent.requests.length, 1);
    });
  });
});
