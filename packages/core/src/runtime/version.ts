/** This framework's version (the `@queue/core` package's), as reported to Celery's tools (`sw_ver`). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const VERSION: string = (require('../../package.json') as { version: string }).version;
/** What our workers call themselves in events and `stats` (Celery's are `py-celery`). */
export const SW_IDENT = 'queue-ts';
