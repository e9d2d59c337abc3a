// @ts-check
/**
 * TypeDoc plugin of the API reference (typedoc.json `plugin`): the `notExported` check for every package
 * of the workspace.
 *
 * TypeDoc's own check only looks at types of the project's package, which for a workspace documented from
 * its root is the root package.json (`queue-workspace`), so a type of `@queue/core` used by a public
 * member but exported by no entry point (it shows up as an unlinked name) would pass unseen. This runs the
 * same check for the packages in `packagesRequiringDocumentation`. Internal types that may appear unlinked
 * on purpose (implementation classes behind public members) are listed in `notExportedAllowed`
 * (`<package>/<path>:<name>`, e.g. `@queue/amqp/src/topology/topology.ts:Topology`); a listed type that is
 * no longer referenced is reported too, so the list cannot go stale.
 */
import { cwd } from 'node:process';
import { Application, ParameterType, ReflectionKind } from 'typedoc';

/** Reflections whose names repeat their owner's (call, constructor, get and set signatures). */
const SIGNATURES = new Set([
  ReflectionKind.CallSignature,
  ReflectionKind.ConstructorSignature,
  ReflectionKind.GetSignature,
  ReflectionKind.SetSignature,
]);

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.options.addDeclaration({
    name: 'notExportedAllowed',
    help: 'Types of the workspace packages that public members may reference without exporting them (<package>/<path>:<name>).',
    type: ParameterType.Array,
    defaultValue: [],
  });

  app.on(Application.EVENT_VALIDATE_PROJECT, (project) => {
    if (!app.options.getValue('validation').notExported) return;
    const packages = new Set(app.options.getValue('packagesRequiringDocumentation'));
    const allowed = new Set(/** @type {string[]} */ (app.options.getValue('notExportedAllowed')));
    const used = new Set();
    /** @type {Map<string, string>} type key -> the first reflection that references it */
    const missing = new Map();

    /**
     * @param {unknown} node a piece of TypeDoc's JSON model
     * @param {string} owner the full name of the nearest reflection
     */
    const walk = (node, owner) => {
      if (Array.isArray(node)) {
        for (const item of node) walk(item, owner);
        return;
      }
      if (typeof node !== 'object' || node === null) return;
      const value = /** @type {Record<string, any>} */ (node);
      let here = owner;
      const named = typeof value.id === 'number' && typeof value.name === 'string';
      if (named && value.kind !== ReflectionKind.Project && !SIGNATURES.has(value.kind)) {
        here = owner ? `${owner}.${value.name}` : value.name;
      }
      const target = value.type === 'reference' ? value.target : undefined;
      // A resolved reference has a reflection id as target; an unresolved one, the symbol's location.
      if (
        target &&
        typeof target === 'object' &&
        packages.has(target.packageName) &&
        !value.refersToTypeParameter
      ) {
        const key = `${target.packageName}/${target.packagePath}:${target.qualifiedName}`;
        if (allowed.has(key)) used.add(key);
        else if (!missing.has(key)) missing.set(key, here);
      }
      for (const child of Object.values(value)) walk(child, here);
    };
    walk(app.serializer.projectToObject(project, cwd()), '');

    for (const [key, owner] of missing) {
      app.logger.validationWarning(
        /** @type {import('typedoc').TranslatedString} */ (
          `${key} is referenced by ${owner} but exported by no entry point (export it, mark the member @internal, or add it to notExportedAllowed)`
        ),
      );
    }
    for (const key of allowed) {
      if (!used.has(key)) {
        app.logger.validationWarning(
          /** @type {import('typedoc').TranslatedString} */ (
            `notExportedAllowed lists ${key}, which nothing references`
          ),
        );
      }
    }
  });
}
