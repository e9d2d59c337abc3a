import { InvalidArgumentError } from 'commander';
import { parseLogFormat, parseLogLevel, type LogFormat, type LogLevel } from '@queue/core';

/** commander argument parsers: a bad value becomes a one-line usage error naming the option. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number ≥ 0');
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number > 0');
  return n;
}

export function commaList(value: string): string[] {
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  if (items.length === 0) throw new InvalidArgumentError('must name at least one queue');
  return items;
}

export function jsonArray(value: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError(`must be a JSON array, e.g. '[1, "two"]' (got ${value})`);
  }
  if (!Array.isArray(parsed)) throw new InvalidArgumentError(`must be a JSON array, e.g. '[1, "two"]'`);
  return parsed;
}

export function jsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError(`must be a JSON object, e.g. '{"a": 1}' (got ${value})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError(`must be a JSON object, e.g. '{"a": 1}'`);
  }
  return parsed as Record<string, unknown>;
}

/** `-l`: Celery's level names in any case (`WARNING`, `warn`, `critical`, …). */
export function logLevel(value: string): LogLevel {
  try {
    return parseLogLevel(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** `--log-format`: `text` or `json`. */
export function logFormat(value: string): LogFormat {
  try {
    return parseLogFormat(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** A TCP port; 0 lets the system pick a free one. */
export function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port (0-65535)');
  return n;
}
