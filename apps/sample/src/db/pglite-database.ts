import { pathToFileURL } from 'node:url';
import * as vm from 'node:vm';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { TransactionRolledBackError, type Database, type Queryable } from './database';

type PgliteModule = typeof import('@electric-sql/pglite');

const SANDBOXED_IMPORT = 'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING_FLAG';

/** Whether `import()` works in code loaded like ours (not in a vm sandbox without ESM support, e.g. jest's). */
async function dynamicImportWorks(): Promise<boolean> {
  const probe = new Function('return import("node:path")') as () => Promise<unknown>;
  try {
    await probe();
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === SANDBOXED_IMPORT) return false;
    throw error;
  }
}

/**
 * PGlite loads parts of itself with `import()`, which a vm sandbox without ESM support (jest's) rejects.
 * There it is loaded through Node's own module loader instead; everywhere else it is simply required.
 */
async function createPglite(options: PGliteOptions): Promise<PGlite> {
  if (await dynamicImportWorks()) return PGlite.create(options);
  const importNatively = vm.runInThisContext('(specifier) => import(specifier)', {
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  }) as (specifier: string) => Promise<PgliteModule>;
  const native = await importNatively(pathToFileURL(require.resolve('@electric-sql/pglite')).href);
  return native.PGlite.create(options);
}

/**
 * PostgreSQL compiled to WebAssembly, running inside this process: the same SQL as the real server with
 * nothing to install. In memory unless `dataDir` is given. One connection: PGlite queues concurrent
 * transactions, which is fine for a sample. Opening takes a few seconds (it runs initdb).
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite';

  private constructor(private readonly db: PGlite) {}

  static async open(dataDir?: string): Promise<PgliteDatabase> {
    return new PgliteDatabase(await createPglite(dataDir ? { dataDir } : {}));
  }

  async query<R extends object>(text: string, params: readonly unknown[] = []): Promise<R[]> {
    return (await this.db.query<R>(text, [...params])).rows;
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    let committing = false;
    try {
      // PGlite issues BEGIN/COMMIT, and ROLLBACK when `work` throws.
      return await this.db.transaction(async (tx) => {
        const value = await work({
          query: async <R extends object>(text: string, params: readonly unknown[] = []) =>
            (await tx.query<R>(text, [...params])).rows,
        });
        committing = true;
        return value;
      });
    } catch (error) {
      // PGlite reports a COMMIT that became a ROLLBACK with an untyped error; name it as PgDatabase does.
      if (committing && /rolled back instead of committed/i.test((error as Error)?.message ?? '')) {
        throw new TransactionRolledBackError({ cause: error });
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
