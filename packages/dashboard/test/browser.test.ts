import '@queue/amqp'; // amqp://
import '@queue/redis'; // redis://
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'amqplib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { App, type CeleryEvent, type Worker } from '@queue/core';
import { clock } from '@queue/core/transport';
import { startDashboardServer, type RunningDashboard } from '../src';
import { requireCelery, startCeleryWorker, type Spawned } from '../../../test-support/python-celery';
import { bundleAssets, waitFor } from './helpers';

/**
 * The dashboard in Debian's chromium against the real fleet: RabbitMQ, a Python Celery 5.2 worker (-E,
 * prefork) and one of ours (task events on), results and PROGRESS in Redis. Each page is checked and
 * saved as a screenshot: into a temporary folder, or, with UPDATE_SCREENSHOTS=1, into
 * packages/dashboard/screenshots (shown in the README; a test run leaves the checkout unchanged). Other test files share the
 * broker: everything here is found by its own worker names, queues and task ids.
 */
requireCelery();
const CHROMIUM = '/usr/bin/chromium';
if (!existsSync(CHROMIUM))
  throw new Error(`${CHROMIUM} is missing: run scripts/services.sh (installs chromium)`);

jest.setTimeout(40_000);

const AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672//';
const REDIS_URL = 'redis://127.0.0.1:6379/11';
const FIXTURES = join(__dirname, 'fixtures');
const SCREENSHOTS =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? join(__dirname, '..', 'screenshots')
    : join(tmpdir(), `queue-dashboard-screenshots-${process.pid}`);
const suffix = randomUUID().slice(0, 8);
const TS_QUEUE = `test.dash.ts.${suffix}`;
const PY_QUEUE = `test.dash.py.${suffix}`;
const IDLE_QUEUE = `test.dash.idle.${suffix}`;
const TS_HOST = `ts-dash-${suffix}@test`;
const PY_HOST = `py-dash-${suffix}@test`;
const XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">';

const app = new App({
  name: `dash-browser-${suffix}`,
  broker: AMQP_URL,
  resultBackend: REDIS_URL,
  defaultQueue: TS_QUEUE,
  workerSendTaskEvents: true,
  setAsCurrent: false,
  transportOptions: { reconnectMaxDelayMs: 1000 },
});
const add = app.task({ name: 'dash.ts.add' }, (a: number, b: number) => a + b);
const fail = app.task({ name: 'dash.ts.fail' }, (message: string) => {
  throw new RangeError(message);
});
const echo = app.task({ name: 'dash.ts.echo' }, (text: string) => text);
const progress = app.task(
  { name: 'dash.ts.progress', bind: true },
  async (self, steps: number, stepMs: number) => {
    for (let step = 1; step <= steps; step += 1) {
      await self.sleepMs(stepMs);
      await self.updateState('PROGRESS', { percent: (step / steps) * 100 });
    }
    return steps;
  },
);

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

let worker: Worker | undefined;
let python: Spawned | undefined;
let running: RunningDashboard | undefined;
let browser: Browser | undefined;
let profile: string | undefined;
const taskIds: string[] = [];
const timings: Record<string, number> = {};
const began = Date.now();

beforeAll(async () => {
  bundleAssets();
  profile = mkdtempSync(join(tmpdir(), 'dash-chromium-'));
  const starting = [
    startCeleryWorker({
      cwd: FIXTURES,
      app: 'dash_celery_app',
      queue: PY_QUEUE,
      hostname: PY_HOST,
      env: { AMQP_URL, REDIS_URL },
      // prefork with one child: the main process answers control (terminate) while the child runs a task;
      // -E: task events; heartbeats on (the default) so it shows as online from events.
      flags: [
        '-P',
        'prefork',
        '-c',
        '1',
        '--prefetch-multiplier',
        '1',
        '-E',
        '-l',
        'info',
        '--without-mingle',
        '--without-gossip',
      ],
      detached: true,
    }).then((spawned) => (python = spawned)),
    chromium
      .launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 })
      .then((launched) => (browser = launched)),
  ];
  // Control messages then carry a clock in 128–32767, which amqplib once tagged as a short int that py-amqp
  // misreads as a string (the Python worker died): the whole run checks that it no longer does.
  clock.adjust(5000);
  worker = app.worker({ hostname: TS_HOST, concurrency: 4 });
  await worker.start();
  running = await startDashboardServer({
    app,
    port: 0,
    queues: [IDLE_QUEUE],
    inspectIntervalMs: 1000,
    queueIntervalMs: 1000,
    controlTimeoutMs: 500,
  });
  await Promise.all(starting);
  timings.setup = Date.now() - began;
}, 60_000);

afterAll(async () => {
  const errors: unknown[] = [];
  const attempt = async (step: () => Promise<unknown> | undefined) => {
    try {
      await step();
    } catch (error) {
      errors.push(error);
    }
  };
  await attempt(() => browser?.close());
  if (process.env.DASH_DEBUG) process.stdout.write(`python worker output:\n${python?.log()}\n`);
  await attempt(() => python?.stop(5000));
  await attempt(() => running?.close());
  await attempt(() => Promise.all(taskIds.map((id) => app.asyncResult(id).forget())));
  await attempt(() => app.close({ timeoutMs: 2000 }));
  await attempt(async () => {
    const connection = await connect(AMQP_URL);
    try {
      const channel = await connection.createChannel();
      for (const queue of [TS_QUEUE, PY_QUEUE, IDLE_QUEUE].flatMap((q) => [q, `${q}.dlq`]))
        await channel.deleteQueue(queue);
    } finally {
      await connection.close();
    }
  });
  if (profile) rmSync(profile, { recursive: true, force: true });
  timings.total = Date.now() - began;
  process.stdout.write(`dashboard browser test timings (ms): ${JSON.stringify(timings)}\n`);
  if (errors.length > 0) throw errors[0];
}, 30_000);

async function openPage(hash: string, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
  const page = await browser!.newPage({ viewport: { width: 1400, height: 900 }, colorScheme });
  page.setDefaultTimeout(15_000);
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('dialog', (dialog) => void dialog.accept());
  (page as Page & { problems: string[] }).problems = problems;
  await page.goto(`${running!.url}${hash}`);
  await page.locator('#connection[data-state="live"]').waitFor();
  return page;
}

function problemsOf(page: Page): string[] {
  return (page as Page & { problems: string[] }).problems;
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

async function send(result: Promise<{ id: string }>): Promise<string> {
  const { id } = await result;
  taskIds.push(id);
  return id;
}

/** The number the page's progress bar shows (aria-valuenow), or null. */
async function barValue(page: Page): Promise<number | null> {
  const value = await page
    .locator('#task-progress [role="progressbar"]')
    .getAttribute('aria-valuenow', { timeout: 1000 })
    .catch(() => null);
  return value === null ? null : Number(value);
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(check, timeoutMs, what);
}

it('shows the Python and the TypeScript worker, with their software, pool and heartbeats', async () => {
  const started = Date.now();
  const page = await openPage('#/workers');
  const py = page.locator(`tr[data-hostname="${PY_HOST}"]`);
  const ts = page.locator(`tr[data-hostname="${TS_HOST}"]`);
  await py.locator('.sw', { hasText: 'py-celery 5.2' }).waitFor();
  await ts.locator('.sw', { hasText: 'queue-ts' }).waitFor();
  await eventually(
    async () =>
      (await py.getAttribute('data-online')) === 'true' && (await ts.getAttribute('data-online')) === 'true',
    'both online',
  );
  await eventually(
    async () => (await py.locator('td').nth(2).textContent()) === 'prefork × 1',
    'python pool from inspect stats',
  );
  expect(await ts.locator('td').nth(2).textContent()).toBe('async × 4');
  await eventually(
    async () => /s ago|just now/.test((await py.locator('td').nth(6).textContent()) ?? ''),
    'python heartbeat',
  );
  expect(await ts.locator('.queues').textContent()).toBe(TS_QUEUE);
  await eventually(async () => (await py.locator('.queues').textContent()) === PY_QUEUE, 'python queues');

  // Pool +1 on the Python worker: Celery answers, and the next inspection shows two processes.
  await py.getByRole('button', { name: 'Pool +1' }).click();
  await eventually(
    async () => /pool will grow/.test((await page.locator('#notice').textContent()) ?? ''),
    'pool grow reply',
  );
  await eventually(
    async () => (await py.locator('td').nth(2).textContent()) === 'prefork × 2',
    'grown pool',
    20_000,
  );
  await screenshot(page, 'workers');
  expect(problemsOf(page)).toEqual([]);
  timings.workers = Date.now() - started;
});

it('lists the tasks of both workers live, filters them, and shows arguments as text', async () => {
  const started = Date.now();
  const page = await openPage('#/tasks');
  const ids = {
    pyAdd: await send(app.sendTask('dash.py.add', [2, 3], {}, { queue: PY_QUEUE })),
    pyFail: await send(app.sendTask('dash.py.fail', ['the printer is on fire'], {}, { queue: PY_QUEUE })),
    tsAdd: await send(add.delay(20, 22)),
    tsFail: await send(fail.delay('out of range')),
    xss: await send(echo.delay(XSS)),
  };
  const row = (id: string) => page.locator(`#task-list .vrow[data-task-id="${id}"]`);
  await eventually(
    async () => (await row(ids.pyAdd).locator('.state').textContent()) === 'SUCCESS',
    'python add in the list',
  );
  await eventually(
    async () => (await row(ids.tsFail).locator('.state').textContent()) === 'FAILURE',
    'ts fail in the list',
  );
  await eventually(
    async () => (await row(ids.pyFail).locator('.state').textContent()) === 'FAILURE',
    'python fail in the list',
  );
  await eventually(
    async () => (await row(ids.xss).locator('.state').textContent()) === 'SUCCESS',
    'echo in the list',
  );
  expect(await row(ids.pyAdd).locator('.worker').textContent()).toBe(PY_HOST);
  expect(await row(ids.tsAdd).locator('.worker').textContent()).toBe(TS_HOST);
  expect(await row(ids.pyAdd).locator('.args').textContent()).toMatch(/2, ?3/);
  // The hostile argument is text in the list, never markup.
  expect(await row(ids.xss).locator('.args').textContent()).toContain('<script>window.__xss = 1</script>');
  await screenshot(page, 'tasks');

  // Filters: state, then worker.
  await page.selectOption('#filter-state', 'FAILURE');
  await eventually(
    async () => (await row(ids.tsAdd).count()) === 0 && (await row(ids.pyFail).count()) === 1,
    'state filter',
  );
  const states = await page.locator('#task-list .vrow:not([hidden]) .state').allTextContents();
  expect(new Set(states)).toEqual(new Set(['FAILURE']));
  await page.selectOption('#filter-worker', PY_HOST);
  await eventually(
    async () => (await row(ids.tsFail).count()) === 0 && (await row(ids.pyFail).count()) === 1,
    'worker filter',
  );
  expect(page.url()).toContain(`worker=${encodeURIComponent(PY_HOST)}`);

  // The hostile task's own page: arguments and result shown as text, nothing run.
  await page.goto(`${running!.url}#/task/${ids.xss}`);
  await page.locator('#task-result').waitFor();
  // Our client's argsrepr is JSON: the quotes come escaped, the markup as it was.
  expect(await page.locator('#task-args').textContent()).toContain(
    '<script>window.__xss = 1</script><img src=x onerror=',
  );
  expect(await page.locator('#task-result').textContent()).toContain('<img src=x onerror=');
  expect(await page.evaluate('window.__xss')).toBeUndefined();
  expect(await page.locator('#view script, #view img').count()).toBe(0);

  // A failed Python task: Celery's exception repr and traceback.
  await page.goto(`${running!.url}#/task/${ids.pyFail}`);
  await page.locator('#task-traceback').waitFor();
  expect(await page.locator('#task-exception').textContent()).toBe("ValueError('the printer is on fire')");
  expect(await page.locator('#task-traceback').textContent()).toContain('Traceback (most recent call last)');
  expect(problemsOf(page)).toEqual([]);
  timings.tasks = Date.now() - started;
});

it("moves a Python task's progress bar from Redis, and Terminate stops it (REVOKED)", async () => {
  const started = Date.now();
  const id = await send(app.sendTask('dash.py.progress', [60, 0.1], {}, { queue: PY_QUEUE }));
  const page = await openPage(`#/task/${id}`);
  await eventually(async () => {
    const value = await barValue(page);
    return value !== null && value > 0 && value < 100;
  }, 'a progress value between 0 and 100');
  const first = (await barValue(page))!;
  await eventually(async () => ((await barValue(page)) ?? 0) > first, 'the bar moving on');
  expect(await page.locator('#task-state .state').textContent()).toBe('STARTED');
  await screenshot(page, 'task');

  await page.locator('#terminate').click();
  await eventually(
    async () => (await page.locator('#task-state .state').textContent()) === 'REVOKED',
    'REVOKED on the page',
  );
  const stoppedAt = (await barValue(page)) ?? 0;
  expect(stoppedAt).toBeLessThan(100);
  await eventually(
    async () =>
      ((await page.locator('#notice').textContent()) ?? '').includes(`${PY_HOST}: terminate: ${id}`),
    "Celery's answer in the notice",
  );
  // Really stopped: Celery stored REVOKED, and no more progress comes.
  await eventually(
    async () => (await app.asyncResult(id).refresh()).state === 'REVOKED',
    'REVOKED in Redis',
    5000,
  );
  await new Promise((resolve) => setTimeout(resolve, 600));
  expect((await app.asyncResult(id).refresh()).state).toBe('REVOKED');
  expect(problemsOf(page)).toEqual([]);
  timings.pythonProgress = Date.now() - started;
});

it('terminates a running TypeScript task from its page', async () => {
  const started = Date.now();
  const id = await send(progress.delay(100, 100));
  const page = await openPage(`#/task/${id}`);
  await eventually(async () => ((await barValue(page)) ?? 0) > 0, 'progress shown');
  await page.locator('#terminate').click();
  await eventually(
    async () => (await page.locator('#task-state .state').textContent()) === 'REVOKED',
    'REVOKED',
  );
  await eventually(
    async () => (await app.asyncResult(id).refresh()).state === 'REVOKED',
    'REVOKED stored',
    5000,
  );
  expect(await page.locator('#terminate').isDisabled()).toBe(true);
  timings.tsTerminate = Date.now() - started;
});

it('shows queue depths and consumers without the management API, and the throughput chart', async () => {
  const started = Date.now();
  for (let n = 0; n < 3; n += 1) await send(app.sendTask('dash.nobody', [n], {}, { queue: IDLE_QUEUE }));
  // A few seconds of traffic for the throughput chart (both workers, some failures), meanwhile.
  const burst = (async () => {
    for (let n = 0; n < 24; n += 1) {
      await send(n % 2 ? add.delay(n, n) : app.sendTask('dash.py.add', [n, n], {}, { queue: PY_QUEUE }));
      if (n % 5 === 0) await send(fail.delay(`burst ${n}`));
      await new Promise((resolve) => setTimeout(resolve, 120));
    }
  })();
  const page = await openPage('#/queues');
  const card = (queue: string) => page.locator(`section[data-queue="${queue}"]`);
  await eventually(
    async () => (await card(IDLE_QUEUE).locator('.stat-value').first().textContent()) === '3',
    'idle queue depth',
  );
  await eventually(
    async () => (await card(TS_QUEUE).locator('.stat-value').nth(1).textContent()) === '1',
    'ts queue consumer',
  );
  await eventually(
    async () => (await card(PY_QUEUE).locator('.stat-value').nth(1).textContent()) === '1',
    'python queue consumer',
  );
  expect(await page.locator('#queue-source').textContent()).toContain('management API');
  await screenshot(page, 'queues');

  await burst;
  await page.goto(`${running!.url}#/`);
  await eventually(
    async () => Number((await page.locator('#stat-succeeded').textContent())?.replace(/,/g, '')) >= 25,
    'succeeded counted',
  );
  expect(Number(await page.locator('#stat-failed').textContent())).toBeGreaterThanOrEqual(2);
  expect(await page.locator('#throughput-chart polyline.series-ok').count()).toBeGreaterThan(0);
  await screenshot(page, 'overview');
  const dark = await openPage('#/', 'dark');
  await eventually(
    async () => Number((await dark.locator('#stat-succeeded').textContent())?.replace(/,/g, '')) >= 25,
    'dark page filled',
  );
  await dark.locator('button[data-window="60"]').click(); // zoom on the last minute
  await eventually(
    async () => (await dark.locator('#throughput-chart .x-axis').textContent()) === '−1 minnow',
    'zoomed',
  );
  await screenshot(dark, 'overview-dark');
  timings.queuesAndOverview = Date.now() - started;
});

it('stays responsive with 10,000 tasks: only the visible rows are in the DOM', async () => {
  const started = Date.now();
  const now = Date.now() / 1000;
  for (let n = 0; n < 10_000; n += 1) {
    const uuid = `bulk-${suffix}-${String(n).padStart(5, '0')}`;
    const common = { hostname: TS_HOST, uuid, clock: n, utcoffset: 0, pid: 1 };
    running!.dashboard.ingest({
      ...common,
      type: 'task-received',
      name: 'dash.bulk',
      args: `(${n},)`,
      kwargs: '{}',
      timestamp: now,
    } as CeleryEvent);
    running!.dashboard.ingest({
      ...common,
      type: 'task-succeeded',
      result: String(n),
      runtime: 0.01,
      timestamp: now + 0.01,
    } as CeleryEvent);
  }
  const opened = Date.now();
  const page = await openPage('#/tasks');
  await eventually(
    async () => /^10,0\d\d of 10,0\d\d$/.test((await page.locator('#task-count').textContent()) ?? ''),
    '10,000 rows listed',
  );
  timings.tenThousandShown = Date.now() - opened;
  const rowsInDom = await page.locator('#task-list .vrow').count();
  expect(rowsInDom).toBeGreaterThan(10);
  expect(rowsInDom).toBeLessThan(80);

  // Scrolling to the end shows the oldest bulk task, still with few rows in the DOM; frames stay short.
  const longestFrame = await page.evaluate<number>(`(async () => {
    const list = document.getElementById('task-list');
    let longest = 0;
    let last = performance.now();
    for (let step = 1; step <= 30; step += 1) {
      list.scrollTop = (list.scrollHeight * step) / 30;
      await new Promise((resolve) => requestAnimationFrame(resolve));
      const at = performance.now();
      longest = Math.max(longest, at - last);
      last = at;
    }
    return longest;
  })()`);
  timings.longestScrollFrame = Math.round(longestFrame);
  expect(longestFrame).toBeLessThan(500); // a 2-core CI machine shared with other tests: generous bound
  // At the end: the oldest bulk tasks (a few may have made room for other tests' tasks meanwhile).
  const bottomIds = await page
    .locator('#task-list .vrow:not([hidden])')
    .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-task-id') ?? ''));
  expect(bottomIds.some((id) => new RegExp(`^bulk-${suffix}-000\\d\\d$`).test(id))).toBe(true);
  expect(await page.locator('#task-list .vrow').count()).toBeLessThan(80);

  // Searching by id narrows 10,000 rows to one at once.
  const typed = Date.now();
  await page.fill('#task-search', `bulk-${suffix}-09999`);
  await eventually(
    async () => /^1 of /.test((await page.locator('#task-count').textContent()) ?? ''),
    'search result',
    5000,
  );
  timings.searchMs = Date.now() - typed;
  expect(timings.searchMs).toBeLessThan(3000);
  expect(await page.locator(`#task-list .vrow[data-task-id="bulk-${suffix}-09999"]`).count()).toBe(1);
  expect(running!.dashboard.snapshot().tasks.length).toBeLessThanOrEqual(10_000); // the server's bound
  timings.tenThousand = Date.now() - started;
});

it('with a token: the page asks for it once, then shows the fleet', async () => {
  const started = Date.now();
  const locked = await startDashboardServer({
    app,
    port: 0,
    auth: { token: 'browser-token-1' },
    controlTimeoutMs: 300,
  });
  const page = await browser!.newPage();
  try {
    page.setDefaultTimeout(15_000);
    await page.goto(`${locked.url}#/workers`);
    await page.locator('#login').waitFor();
    expect(await page.locator('#connection').getAttribute('data-state')).toBe('unauthorized');
    await page.fill('#token', 'wrong-token-22');
    await page.click('#login button[type="submit"]');
    await page.locator('#login', { hasText: 'That token was refused' }).waitFor();
    await page.fill('#token', 'browser-token-1');
    await page.click('#login button[type="submit"]');
    await page.locator('#connection[data-state="live"]').waitFor();
    await page.locator(`tr[data-hostname="${PY_HOST}"]`).waitFor();
  } finally {
    await page.close();
    await locked.close();
  }
  timings.token = Date.now() - started;
});

it('shuts a worker down from its row: it goes offline', async () => {
  const started = Date.now();
  const page = await openPage('#/workers');
  const ts = page.locator(`tr[data-hostname="${TS_HOST}"]`);
  await eventually(async () => (await ts.getAttribute('data-online')) === 'true', 'online first');
  await ts.getByRole('button', { name: 'Shut down' }).click();
  await eventually(async () => (await ts.getAttribute('data-online')) === 'false', 'offline after shutdown');
  timings.shutdown = Date.now() - started;
});
