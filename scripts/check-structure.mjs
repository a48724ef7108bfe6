#!/usr/bin/env node
// Structure rules of the source tree (issue 17), checked by `npm test`:
//   1. no import cycle between files (static, dynamic and type-only imports all count);
//   2. no two files share a name (a newcomer searching for `errors.ts` finds one file);
//   3. no file is longer than 500 lines.
// Usage: node scripts/check-structure.mjs [DIR]   (DIR defaults to src). Exit 1 and one line per
// problem on failure. Imports are read with TypeScript's own scanner (ts.preProcessFile), so
// comments and template strings that look like imports are not taken for imports.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

export const MAX_LINES = 500;
const SOURCE = /\.(ts|tsx|mts|cts)$/;

function listSources(dir) {
  const found = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...listSources(path));
    else if (SOURCE.test(name) && !name.endsWith('.d.ts')) found.push(path);
  }
  return found;
}

/** The file a relative specifier names (`./x.js` is `./x.ts` in source), if it is in the tree. */
function resolveImport(from, specifier, known) {
  const base = resolve(dirname(from), specifier);
  const candidates = [
    base,
    base.replace(/\.(m|c)?js$/, '.$1ts'),
    base.replace(/\.jsx$/, '.tsx'),
    `${base}.ts`,
    `${base}.tsx`,
    join(base, 'index.ts'),
  ];
  return candidates.find((candidate) => known.has(candidate));
}

export function readGraph(root) {
  const files = listSources(root).map((file) => resolve(file));
  const known = new Set(files);
  const graph = new Map();
  const lines = new Map();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    lines.set(file, text.split('\n').length - (text.endsWith('\n') ? 1 : 0));
    const { importedFiles } = ts.preProcessFile(text, true, true);
    const targets = new Set();
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = resolveImport(file, fileName, known);
      if (target !== undefined && target !== file) targets.add(target);
    }
    graph.set(file, [...targets].sort());
  }
  return { files, graph, lines };
}

/** Every strongly connected component of more than one file (Tarjan), each as one cycle. */
export function findCycles(graph) {
  let next = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const components = [];
  const visit = (node) => {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node), low.get(target)));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node), index.get(target)));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) components.push(component);
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  // One concrete loop per component: the shortest path back to its first file (breadth first).
  return components.map((component) => {
    const members = new Set(component);
    const start = [...component].sort()[0];
    const previous = new Map([[start, null]]);
    const queue = [start];
    while (queue.length > 0) {
      const node = queue.shift();
      for (const target of graph.get(node) ?? []) {
        if (!members.has(target)) continue;
        if (target === start) {
          const loop = [start];
          for (let at = node; at !== start; at = previous.get(at)) loop.splice(1, 0, at);
          return [...loop, start];
        }
        if (!previous.has(target)) {
          previous.set(target, node);
          queue.push(target);
        }
      }
    }
    return [...component, component[0]];
  });
}

export function checkStructure(root) {
  const { files, graph, lines } = readGraph(root);
  const name = (file) => relative(process.cwd(), file);
  const problems = [];
  for (const cycle of findCycles(graph)) problems.push(`import cycle: ${cycle.map(name).join(' -> ')}`);
  const byBasename = new Map();
  for (const file of files) byBasename.set(basename(file), [...(byBasename.get(basename(file)) ?? []), file]);
  for (const [base, same] of byBasename) {
    if (same.length > 1) problems.push(`files share the name ${base}: ${same.map(name).join(', ')}`);
  }
  for (const file of files) {
    if (lines.get(file) > MAX_LINES) problems.push(`${name(file)} has ${lines.get(file)} lines (at most ${MAX_LINES})`);
  }
  return { files: files.length, problems };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const root = process.argv[2] ?? 'src';
  if (!existsSync(root)) {
    console.error(`check-structure: ${root} does not exist`);
    process.exit(2);
  }
  const { files, problems } = checkStructure(root);
  if (problems.length > 0) {
    console.error(`check-structure: ${problems.length} problem(s) in ${root}/ (scripts/check-structure.mjs):`);
    for (const problem of problems) console.error(`  ${problem}`);
    process.exit(1);
  }
  console.log(
    `check-structure: ${files} files in ${root}/, no import cycle, no shared file name, none over ${MAX_LINES} lines`,
  );
}
