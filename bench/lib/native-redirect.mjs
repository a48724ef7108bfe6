/**
 * `node --import <this file>?better-sqlite3=<file URL>`: resolves the bare specifier
 * `better-sqlite3` to the given file (a copy built for this runtime's ABI, see
 * bench/lib/node-runtime.ts) instead of the checkout's node_modules, whose addon is built for the
 * system Node. Nothing else is redirected. Plain JavaScript: it runs before tsx is loaded.
 */
import { register } from 'node:module';

const self = new URL(import.meta.url);
const target = self.searchParams.get('better-sqlite3');

if (!self.searchParams.has('hooks')) {
  if (!target) throw new Error('native-redirect.mjs: no ?better-sqlite3=<file URL> given');
  const hooks = new URL(self.href);
  hooks.search = '?hooks';
  register(hooks, { data: { target } });
}

let redirectTo;
export function initialize(data) {
  redirectTo = data.target;
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'better-sqlite3' && redirectTo) return { url: redirectTo, shortCircuit: true };
  return nextResolve(specifier, context);
}
