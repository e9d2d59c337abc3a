import { ConfigError, readConfig } from '../src/config';

describe('readConfig', () => {
  it('defaults to port 3000 on 127.0.0.1, the embedded database and a worker in the process', () => {
    expect(readConfig({})).toEqual({
      port: 3000,
      host: '127.0.0.1',
      amqpUrl: undefined,
      databaseUrl: undefined,
      pgliteDataDir: undefined,
      recordsTable: undefined,
      runWorker: true,
    });
  });

  it('with AMQP_URL runs no worker unless RUN_WORKER=1', () => {
    expect(readConfig({ AMQP_URL: 'amqp://localhost' }).runWorker).toBe(false);
    expect(readConfig({ AMQP_URL: 'amqp://localhost', RUN_WORKER: '1' }).runWorker).toBe(true);
  });

  it('rejects a PORT that is not a port number', () => {
    for (const PORT of ['http', '-1', '70000', '3.5', '']) {
      expect(() => readConfig({ PORT })).toThrow(ConfigError);
    }
    expect(readConfig({ PORT: '0', HOST: '0.0.0.0' })).toMatchObject({ port: 0, host: '0.0.0.0' });
  });
});
