/**
 * The module `queue worker --app apps/sample/dist/worker.js` loads: registers the sample's tasks and
 * exports the App. With `DATABASE_URL` set, `manual` loads its records from that PostgreSQL.
 */
import { app } from './app';
import { PgDatabase } from './db/pg-database';
import { RecordStore } from './db/record-store';
import { useRecordLoader } from './tasks';

const databaseUrl = process.env.DATABASE_URL;
if (databaseUrl) {
  // allowExitOnIdle: the CLI owns the process lifetime; an idle pool must not keep it alive at shutdown.
  const store = new RecordStore(
    new PgDatabase({ connectionString: databaseUrl, max: 4, allowExitOnIdle: true }),
    process.env.RECORDS_TABLE,
  );
  useRecordLoader((id) => store.get(id));
}

export { app };
