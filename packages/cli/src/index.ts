/**
 * `@queue/cli`: the `queue` command (`queue worker`, `queue call`, `queue beat`, `queue inspect`, …), and
 * {@link runCli} to run it from a script of your own.
 *
 * @module \@queue/cli
 */
export { runCli, type CliOutcome } from './program';
export { loadApp } from './load-app';
export { CliUsageError } from './cli-error';
