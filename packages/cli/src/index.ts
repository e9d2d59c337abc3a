export { runCli, type CliOutcome } from './program';
export { loadApp } from './load-app';
export { CliUsageError } from './cli-error';
