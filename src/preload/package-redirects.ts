/**
 * Module resolution hooks (for `module.register` on Node 20–22.14, `module.registerHooks` after):
 * an instrumentation of the tool's that imports a package the program uses (`openai`) gets the
 * program's own copy of it, in the program's module format — the very classes the program's
 * objects are instances of — rather than the copy beside the tool.
 */

export interface RedirectData {
  /** file URL of the tool's compiled sources: imports from there are the ones redirected. */
  fromUrl: string;
  packages: readonly PackageRedirect[];
}

interface PackageRedirect {
  name: string;
  /** Where the program imports it from (its main module): resolution starts there. */
  parentURL: string;
  /** The program loads it with `require()`: its CommonJS build, the one in require's cache. */
  commonJs: boolean;
}

const REQUIRE_CONDITIONS = ['node', 'require', 'node-addons'];

let redirects: RedirectData = { fromUrl: '\0', packages: [] };

/** `module.register`'s entry; called directly before `module.registerHooks`. */
export function initialize(data: RedirectData): void {
  redirects = data;
}

interface ResolveContext {
  parentURL?: string | undefined;
  conditions?: readonly string[];
}

/** Node's resolve hook, synchronous or not: whatever `next` returns is returned. */
export function resolve<T>(specifier: string, context: ResolveContext, next: (specifier: string, context: ResolveContext) => T): T {
  if (!context.parentURL?.startsWith(redirects.fromUrl)) return next(specifier, context);
  const target = redirects.packages.find(({ name }) => specifier === name || specifier.startsWith(`${name}/`));
  if (!target) return next(specifier, context);
  return next(specifier, {
    ...context,
    parentURL: target.parentURL,
    ...(target.commonJs && { conditions: REQUIRE_CONDITIONS }),
  });
}
