// The memory broker, and `manual` slow enough (50 × 40 ms) for the page to show it moving.
delete process.env.AMQP_URL;
process.env.MANUAL_STEP_MS = '40';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { app } from '../src/app';
import { readConfig } from '../src/config';
import { startSample, type RunningSample } from '../src/sample';
import { RecordStore } from '../src/db/record-store';
import { RecordService } from '../src/records';
import { SampleFailure } from '../src/tasks';

/** Reports 40 %, stays there long enough for the page to poll it, then fails. */
const failsAt40 = app.task(
  { name: 'test.browser.fails-at-40', bind: true },
  async (self, _recordId: number): Promise<number> => {
    await self.updateState('PROGRESS', { percent: 40 });
    await new Promise((resolve) => setTimeout(resolve, 1200));
    throw new SampleFailure('printer on fire');
  },
);

/** Debian's chromium (scripts/services.sh installs it); playwright-core downloads no browser of its own. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOT = resolve(__dirname, '../../../.test-results/sample-progress.png');

let sample: RunningSample | undefined;
let context: BrowserContext | undefined;
let profile: string | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run scripts/services.sh (installs chromium)`);
  sample = await startSample({ ...readConfig({}), port: 0 }, app);
  profile = mkdtempSync(join(tmpdir(), 'sample-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
}, 90_000);

afterAll(async () => {
  try {
    await context?.close();
  } finally {
    await sample?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  }
}, 30_000);

it('creates a record and watches its progress bar reach 100% and SUCCESS', async () => {
  const page = await context!.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(sample!.url);
  await page.fill('#title', 'Quarterly report');
  await page.click('#create');

  const row = page.locator('#records tr', { hasText: 'Quarterly report' });
  const bar = row.locator('[role="progressbar"]');
  const state = row.locator('.state');

  // Moving: some percentage strictly between 0 and 100 is shown on the way.
  await page.waitForFunction(
    (element) => {
      const percent = Number(element?.getAttribute('aria-valuenow'));
      return percent > 0 && percent < 100;
    },
    await bar.elementHandle(),
    { timeout: 15_000, polling: 50 },
  );
  await expectEventually(async () => (await state.textContent()) === 'PROGRESS');

  await expectEventually(async () => (await bar.getAttribute('aria-valuenow')) === '100');
  await expectEventually(async () => (await state.textContent()) === 'SUCCESS');
  expect(await row.locator('.percent').textContent()).toBe('100%');
  expect(await page.locator('#error').textContent()).toBe('');

  mkdirSync(resolve(SCREENSHOT, '..'), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  expect(existsSync(SCREENSHOT)).toBe(true);
}, 60_000);

it('shows a failed task’s error type, message and last progress', async () => {
  const config = readConfig({});
  const records = new RecordService(
    sample!.db,
    new RecordStore(sample!.db, config.recordsTable),
    app,
    failsAt40,
  );
  const page = await context!.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(sample!.url);
  await records.createRecord('Doomed report');

  const row = page.locator('#records tr', { hasText: 'Doomed report' });
  await expectEventually(async () => (await row.locator('.state').textContent()) === 'FAILURE');
  expect(await row.locator('.task-error').textContent()).toBe('SampleFailure: printer on fire (at 40%)');
  expect(await row.locator('.percent').textContent()).toBe('40%');
  expect(await row.locator('[role="progressbar"]').getAttribute('aria-valuenow')).toBe('40');
  // A page opened after the failure shows the same: the server remembers the last progress.
  const late = await context!.newPage();
  await late.goto(sample!.url);
  const lateRow = late.locator('#records tr', { hasText: 'Doomed report' });
  await expectEventually(async () => (await lateRow.locator('.state').textContent()) === 'FAILURE');
  expect(await lateRow.locator('.task-error').textContent()).toBe('SampleFailure: printer on fire (at 40%)');
}, 30_000);

it('shows the validation error of an over-long title', async () => {
  const page = await context!.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(sample!.url);
  // The input's maxlength stops typing, not a value set by script; the server check is what answers.
  await page.evaluate(`document.getElementById('title').removeAttribute('maxlength')`);
  await page.fill('#title', 'x'.repeat(201));
  await page.click('#create');
  await expectEventually(async () =>
    ((await page.locator('#error').textContent()) ?? '').includes('title must be at most 200 characters'),
  );
}, 30_000);

/** Retries `check` every 50 ms for up to 15 s. */
async function expectEventually(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms: ${check.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
