import { ConfigurationError } from '@queue/core';
import { DEFAULT_CONNECT_TIMEOUT_MS, maskUrl, parsePostgresUrl, schemaStatements, tableNames } from '../src';

describe('URLs', () => {
  test('maskUrl hides the password of the user info and of a password= parameter', () => {
    expect(maskUrl('postgresql://app:s3cret@db:5432/x')).toBe('postgresql://app:****@db:5432/x');
    expect(maskUrl('db+postgresql://app:p@ss:w0rd@db/x?sslmode=require')).toBe(
      'db+postgresql://app:****@db/x?sslmode=require',
    );
    expect(maskUrl('postgres://app@db/x?password=s3cret&x=1')).toBe('postgres://app@db/x?password=****&x=1');
    expect(maskUrl('postgresql:///x?host=/var/run/postgresql')).toBe(
      'postgresql:///x?host=/var/run/postgresql',
    );
  });

  test.each(['postgresql', 'postgres', 'db+postgresql', 'POSTGRESQL'])(
    '%s:// is read as postgresql://',
    (scheme) => {
      const settings = parsePostgresUrl(`${scheme}://app:s3cret@db:6543/results?sslmode=disable`);
      expect(settings.connectionString).toBe('postgresql://app:s3cret@db:6543/results?sslmode=disable');
      expect(settings.displayUrl).toBe(`${scheme}://app:****@db:6543/results?sslmode=disable`);
      expect(settings.password).toBe('s3cret');
      expect(settings.tables).toEqual({
        results: 'queue_task_results',
        groups: 'queue_group_counters',
        chordParts: 'queue_chord_parts',
        channel: 'queue_task_results',
      });
      expect(settings.connectTimeoutMs).toBe(DEFAULT_CONNECT_TIMEOUT_MS);
    },
  );

  test("the package's own parameters are read and not passed on to pg; libpq's connect_timeout is honoured", () => {
    const settings = parsePostgresUrl(
      'postgresql://db/x?tablePrefix=billing_&poolSize=8&queryTimeoutMs=5000&application_name=api&connect_timeout=3',
    );
    expect(settings.tables.results).toBe('billing_task_results');
    expect(settings.poolSize).toBe(8);
    expect(settings.queryTimeoutMs).toBe(5000);
    expect(settings.connectTimeoutMs).toBe(3000);
    expect(settings.connectionString).toBe('postgresql://db/x?application_name=api&connect_timeout=3');
    expect(
      parsePostgresUrl('postgresql://db/x?connectTimeoutMs=250&connect_timeout=3').connectTimeoutMs,
    ).toBe(250);
  });

  test('wrong schemes, values and prefixes are ConfigurationErrors naming the masked URL', () => {
    expect(() => parsePostgresUrl('mysql://u:pw@db/x')).toThrow(ConfigurationError);
    expect(() => parsePostgresUrl('postgresql://u:pw@db/x?poolSize=abc')).toThrow(
      'poolSize in postgresql://u:****@db/x?poolSize=abc must be an integer from 1 to 100, got "abc"',
    );
    expect(() => parsePostgresUrl('postgresql://db/x?queryTimeoutMs=-1')).toThrow(ConfigurationError);
    expect(() => tableNames('Billing')).toThrow(/tablePrefix must be 1-38 characters/);
    expect(() => tableNames('1abc_')).toThrow(ConfigurationError);
    expect(() => tableNames('a'.repeat(39))).toThrow(ConfigurationError);
    expect(tableNames('a'.repeat(38)).groups).toHaveLength(52);
  });

  test('the DDL names every table and index (at most 63 bytes each)', () => {
    const statements = schemaStatements(tableNames('p'.repeat(38)));
    for (const name of statements.join('\n').match(/"[^"]+"/g) ?? [])
      expect(name.length - 2).toBeLessThanOrEqual(63);
    expect(statements).toHaveLength(6);
    expect(statements[0]).toContain('document json NOT NULL');
    expect(statements[4]).toContain('result json NOT NULL');
  });
});
