/**
 * The CLI flags of the settings, as the schema declares them (`flag` in commander's syntax): the
 * name and the property commander gives each, at run time and for the compiler, and the flags
 * type of a set of settings (a mapped type over their flag brands, see setting-node.ts).
 */
import type { FlagBrand } from './setting-node.js';

/** `--trust-proxy` of `--trust-proxy <proxies>`, `--port` of `-p, --port <port>`. */
export function flagName(flag: string): string {
  return /--[a-z0-9-]+/.exec(flag)?.[0] ?? flag;
}

/** The property of the parsed flags that carries a flag, as commander names it: `--trust-proxy <x>` -> trustProxy. */
export function flagProperty(flag: string): string {
  const long = /--([a-z0-9-]+)/.exec(flag)?.[1] ?? '';
  return long.replace(/-([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

/** `trust-proxy` of `--trust-proxy <proxies>`. */
type LongName<F extends string> = F extends `${string}--${infer Rest}`
  ? Rest extends `${infer Name} ${string}`
    ? Name
    : Rest
  : never;
type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;
/** flagProperty, for the compiler. */
export type FlagProperty<F extends string> = CamelCase<LongName<F>>;

/**
 * What a flag carries: the text of its value, or true for a switch (no `<value>`). From code
 * (resolveSettings is public), a numeric setting also takes the number itself.
 */
type FlagValue<B extends FlagBrand> = B['flag'] extends `${string}<${string}>`
  ? string | ([B['value']] extends [number] ? number : never)
  : boolean;

/** The parsed flags of the settings of these brands: one optional property per flag. */
export type FlagsOf<B extends FlagBrand> = {
  [Brand in B as FlagProperty<Brand['flag']>]?: FlagValue<Brand> | undefined;
};
