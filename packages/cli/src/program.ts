import '@queue/amqp'; // registers amqp://, amqps://, pyamqp:// and rpc://
import { Command, CommanderError, Option } from 'commander';
import { ConfigurationError, QueueError } from '@queue/core';
import { runCall } from './commands/call';
import { runWorker } from './commands/worker';
import { INSPECT_METHODS, runInspect } from './commands/inspect';
import { runStatus } from './commands/status';
import { runResult } from './commands/result';
import { runPurge } from './commands/purge';
import { CONTROL_METHODS, runControl } from './commands/control';
import { runEvents } from './commands/events';
import { runBeat } from './commands/beat';
import { runDashboard } from './commands/dashboard';
import { CliUsageError } from './cli-error';
import {
  commaList,
  jsonArray,
  jsonObject,
  logFormat,
  logLevel,
  nonNegativeNumber,
  portNumber,
  positiveInt,
  positiveNumber,
} from './parse';

const VERSION = '0.1.0';

function buildProgram(setExitCode: (outcome: CliOutcome) => void): Command {
  const program = new Command('queue')
    .description('Celery-class background tasks for TypeScript, on RabbitMQ')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .showSuggestionAfterError(true);

  program
    .command('worker')
    .description('run a worker for an App (as `celery -A proj worker`)')
    .addOption(
      new Option('-A, --app <module>', 'module or .js file exporting an App (module:exportName to pick one)')
        .env('QUEUE_APP')
        .makeOptionMandatory(),
    )
    .option(
      '-Q, --queues <names>',
      'comma-separated queues to consume (default: the App’s defaultQueue)',
      commaList,
    )
    .option('-c, --concurrency <n>', 'tasks run at once', positiveInt, 10)
    .option('--prefetch-multiplier <n>', 'prefetch = concurrency × this', positiveInt, 4)
    .addOption(
      new Option('-P, --pool <kind>', 'execution pool').choices(['async', 'threads']).default('async'),
    )
    .addOption(logLevelOption())
    .addOption(logFormatOption())
    .option('-n, --hostname <name>', 'worker name (name@host; %h host, %n host without domain, %d domain)')
    .option(
      '--shutdown-timeout <seconds>',
      'warm shutdown: how long running tasks may take to finish',
      nonNegativeNumber,
      30,
    )
    .option(
      '--heartbeat-file <path>',
      'rewrite this file every 10 s while consuming (container healthchecks)',
    )
    .option('-E, --task-events', 'send task events (celery events, Flower, queue events)')
    .option('--without-heartbeat', 'send no worker events (online, heartbeat, offline)')
    .option('--without-mingle', 'do not ask the running workers for revoked ids at start')
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics on http://<metrics-host>:<port>/metrics',
      portNumber,
    )
    .option(
      '--metrics-host <address>',
      'address the metrics listen on (0.0.0.0: every interface)',
      '127.0.0.1',
    )
    .action(async (options) => {
      await runWorker(options);
      setExitCode('running');
    });

  program
    .command('beat')
    .description(
      'send the App’s periodic tasks (beatSchedule) when due, one beat at a time (as `celery beat`)',
    )
    .addOption(
      new Option('-A, --app <module>', 'module or .js file exporting an App with a beatSchedule')
        .env('QUEUE_APP')
        .makeOptionMandatory(),
    )
    .option('-b, --broker <url>', 'send through this broker instead of the App’s')
    .option(
      '-s, --schedule-file <path>',
      'where each entry’s last run is kept (share it between beats that stand in for each other)',
      './queue-beat-schedule.json',
    )
    .option(
      '--max-interval <seconds>',
      'longest sleep between two looks at the schedule',
      positiveNumber,
      300,
    )
    .option(
      '--lock-retry <seconds>',
      'while another beat holds the lock: how often to try to take it',
      positiveNumber,
      5,
    )
    .option('--lock-name <name>', 'the broker lock (default: <app name>.beat.lock)')
    .addOption(logLevelOption())
    .addOption(logFormatOption())
    .action(async (options) => {
      await runBeat(options);
      setExitCode('running');
    });

  withBrokerOptions(
    program
      .command('call')
      .description('send a task by name; with --wait, print its result')
      .argument('<task>', 'registered task name (in our workers or Python Celery ones)'),
  )
    .option('--args <json>', 'positional arguments as a JSON array', jsonArray, [])
    .option('--kwargs <json>', 'keyword arguments as a JSON object', jsonObject, {})
    .option('--countdown <seconds>', 'run no sooner than this many seconds from now', nonNegativeNumber)
    .option(
      '-Q, --queue <name>',
      "destination queue (default: the task's queue in --app, else the App's default queue; without --app, 'celery')",
    )
    .option(
      '--wait',
      'follow its states on stderr (a progress bar on a terminal), then print the result as JSON',
      false,
    )
    .option('--timeout <seconds>', 'with --wait: give up after this long', nonNegativeNumber, 60)
    .action(async (task: string, options) => setExitCode(await runCall(task, options)));

  withBrokerOptions(
    program
      .command('status')
      .description('ask running workers what became of a task (Celery’s query_task over the broker)')
      .argument('<task-id>', 'the task id printed by `queue call`'),
  )
    .option('--timeout <seconds>', 'how long to collect worker answers', nonNegativeNumber, 1)
    .action(async (taskId: string, options) => setExitCode(await runStatus(taskId, options)));

  withBrokerOptions(
    program
      .command('result')
      .description('print a task’s stored state, result or error (redis:// or postgresql:// result backends)')
      .argument('<task-id>', 'the task id printed by `queue call`'),
  )
    .option('--wait', 'follow its states until it is ready', false)
    .option('--timeout <seconds>', 'with --wait: give up after this long', nonNegativeNumber, 60)
    .action(async (taskId: string, options) => setExitCode(await runResult(taskId, options)));

  withBrokerOptions(
    program.command('purge').description('delete the messages waiting in queues (asks first unless -f)'),
  )
    .option('-Q, --queues <names>', 'comma-separated queues (default: the App’s defaultQueue)', commaList)
    .option('-f, --force', 'do not ask for confirmation', false)
    .action(async (options) => setExitCode(await runPurge(options)));

  withBrokerOptions(
    program
      .command('inspect')
      .description('ask running workers, ours and Celery’s (or the broker, for queues), about their state')
      .argument('<what>', [...INSPECT_METHODS, 'queues'].join(' | '))
      .argument('[args...]', 'for query_task: task ids'),
  )
    .option('--timeout <seconds>', 'how long to wait for the next worker answer', nonNegativeNumber, 1)
    .option('-d, --destination <hostnames>', 'only these workers (comma-separated)', commaList)
    .option('-Q, --queues <names>', 'for `queues`: which queues (default: the App’s defaultQueue)', commaList)
    .option('--safe', 'for `active`: args and kwargs as repr strings', false)
    .action(async (what: string, args: string[], options) =>
      setExitCode(await runInspect(what, args, options)),
    );

  withBrokerOptions(
    program
      .command('control')
      .description('act on running workers, ours and Celery’s (revoke, shutdown, time_limit, …)')
      .argument('<method>', CONTROL_METHODS.join(' | '))
      .argument('[args...]', 'the method’s arguments (e.g. task ids for revoke)'),
  )
    .option('--timeout <seconds>', 'how long to wait for the next worker answer', nonNegativeNumber, 1)
    .option('-d, --destination <hostnames>', 'only these workers (comma-separated)', commaList)
    .option('--terminate', 'for `revoke`: also stop the task if it is running', false)
    .option(
      '--signal <name>',
      'for `revoke --terminate`: the signal reported (SIGTERM, SIGKILL, …)',
      'SIGTERM',
    )
    .action(async (method: string, args: string[], options) =>
      setExitCode(await runControl(method, args, options)),
    );

  withBrokerOptions(
    program
      .command('events')
      .description('print every worker and task event as it arrives (as `celery events --dump`)'),
  )
    .option('--json', 'one JSON object per event and line', false)
    .option('--duration <seconds>', 'stop after this long (default: until SIGINT/SIGTERM)', nonNegativeNumber)
    .option('--limit <n>', 'stop after this many events', positiveInt)
    .action(async (options) => setExitCode(await runEvents(options)));

  withBrokerOptions(
    program
      .command('dashboard')
      .description(
        'serve the live fleet page: workers, tasks, queues, throughput (as Flower; see @queue/dashboard)',
      ),
  )
    .addOption(
      new Option(
        '--host <address>',
        'address to listen on (0.0.0.0: every interface; set --token or --basic-auth)',
      )
        .default('127.0.0.1')
        .env('QUEUE_DASHBOARD_HOST'),
    )
    .addOption(
      new Option('--port <port>', 'port to listen on (0: any free one)')
        .argParser(portNumber)
        .default(5555)
        .env('QUEUE_DASHBOARD_PORT'),
    )
    .option('--prefix <path>', 'serve under this path (e.g. /flower)')
    .option(
      '--max-tasks <n>',
      'tasks kept in memory (the least recently updated go first)',
      positiveInt,
      10000,
    )
    .addOption(
      new Option(
        '--basic-auth <user:pass>',
        'require HTTP basic auth (prefer the environment: argv is visible)',
      ).env('QUEUE_DASHBOARD_BASIC_AUTH'),
    )
    .addOption(
      new Option('--token <token>', 'require this bearer token (the page asks for it once)').env(
        'QUEUE_DASHBOARD_TOKEN',
      ),
    )
    .addOption(
      new Option(
        '--management-url <url>',
        'RabbitMQ management API for queue depths and rates (http://guest:guest@127.0.0.1:15672)',
      ).env('QUEUE_DASHBOARD_MANAGEMENT_URL'),
    )
    .option(
      '-Q, --queues <names>',
      'queues to show besides those the workers consume (comma-separated)',
      commaList,
    )
    .option('--inspect-interval <seconds>', 'how often to ask the workers for stats', positiveNumber, 5)
    .option('--enable-events', 'ask the workers to send task events (enable_events), as Flower does', false)
    .action(async (options) => setExitCode(await runDashboard(options)));

  return program;
}

/** `-l`, spelled as Celery spells levels (any case; `warn` for `warning`, `critical` logs errors only). */
function logLevelOption(): Option {
  return new Option('-l, --loglevel <level>', 'log level: debug, info, warning, error, critical (any case)')
    .argParser(logLevel)
    .default('info')
    .env('LOG_LEVEL');
}

/** `--log-format`: readable lines on a terminal, JSON otherwise, unless told. */
function logFormatOption(): Option {
  return new Option(
    '--log-format <format>',
    'text (one readable line per event) or json (default: text on a terminal, json otherwise)',
  )
    .argParser(logFormat)
    .env('QUEUE_LOG_FORMAT');
}

/** `--app` or `--broker` (AMQP_URL): how one-shot commands reach the broker. */
function withBrokerOptions(command: Command): Command {
  return command
    .option(
      '-A, --app <module>',
      'module or .js file exporting an App (its broker and result backend are used)',
    )
    .addOption(new Option('-b, --broker <url>', 'broker URL when no --app is given').env('AMQP_URL'))
    .option(
      '--result-backend <url>',
      'result backend URL with --broker (default: rpc://, memory:// for memory brokers)',
    )
    .option(
      '--connect-timeout <seconds>',
      'with --broker: give up connecting after this long (default: 15)',
      nonNegativeNumber,
    );
}

/** The exit code of a one-shot command, or 'running' for a worker (its signal handlers exit). */
export type CliOutcome = number | 'running';

/** Runs the CLI with `argv` as `process.argv` (node, script, args...). */
export async function runCli(argv: readonly string[]): Promise<CliOutcome> {
  let outcome: CliOutcome = 0;
  const program = buildProgram((code) => (outcome = code));
  try {
    await program.parseAsync([...argv]);
    return outcome;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed its message; help and version are not errors
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof CliUsageError) {
      process.stderr.write(`error: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof QueueError) {
      // One line: what failed, where (passwords masked) and what to check. Bad configuration is a usage
      // error (2); a broker that cannot be reached or refuses us is a failure (1).
      process.stderr.write(`error: ${error.name}: ${error.message.replace(/\s*\n\s*/g, ' ')}\n`);
      return error instanceof ConfigurationError ? 2 : 1;
    }
    throw error;
  }
}
