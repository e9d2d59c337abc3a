// Circular-import gate (`pnpm lint:imports`, run by scripts/test.sh in the lint step).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      // A require-time circle leaves some module half-initialised (undefined imports, TDZ errors) depending
      // on which file is loaded first. The one allowed circle is App <-> Worker (the App creates its
      // Worker, the Worker runs the App's tasks): a cycle made only of those two files passes, any cycle
      // with a third module in it (e.g. app -> worker -> x -> app) fails. via.pathNot flags a cycle
      // when some module in it does not match the pattern.
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: {
        circular: true,
        via: { pathNot: '^packages/core/src/(app/app|worker/worker)[.]ts$' },
      },
    },
  ],
  options: {
    // Only runtime imports count: `import type` / `import { type X }` are erased by tsc and make no circle.
    tsPreCompilationDeps: false,
    // Resolves `@queue/*` to packages/*/src like tsc does, so circles across packages are seen too.
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
  },
};
