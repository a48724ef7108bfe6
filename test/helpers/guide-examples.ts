/**
 * The guides of docs/guides/ show their code from files under examples/ that tests run: a code
 * block follows a marker naming its file,
 *
 *   <!-- example: examples/guides/web-app/express-app.ts -->
 *   ```ts
 *   ...the file, verbatim...
 *   ```
 *
 * `node --import tsx scripts/guide-examples.ts --write` copies the files into the blocks;
 * test/docs/guide-examples.test.ts fails when a block and its file differ, or when a guide has a
 * code block without a marker.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const MARKER = /^<!-- example: (\S+) -->$/;

const LANGUAGES: Record<string, string> = {
  ts: 'ts',
  js: 'js',
  mjs: 'js',
  html: 'html',
  yaml: 'yaml',
  yml: 'yaml',
  json: 'json',
  sh: 'sh',
};

export interface GuideBlock {
  /** The example file, relative to the repository. */
  file: string | undefined;
  /** The block's text between its fences. */
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
}

/** Every fenced code block of a guide, with the example file its marker names (if any). */
export function guideBlocks(markdown: string): GuideBlock[] {
  const lines = markdown.split('\n');
  const blocks: GuideBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('```')) continue;
    const end = lines.findIndex((line, j) => j > i && line.startsWith('```'));
    if (end < 0) throw new Error(`an unclosed code block at line ${i + 1}`);
    const marker = i > 0 ? MARKER.exec(lines[i - 1]!) : null;
    blocks.push({ file: marker?.[1], code: lines.slice(i + 1, end).join('\n'), line: i + 1 });
    i = end;
  }
  return blocks;
}

/** The guide with every marked block replaced by its file, read from `repo`. */
export function syncGuide(markdown: string, repo: string): string {
  const lines = markdown.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = MARKER.exec(lines[i]!);
    out.push(lines[i]!);
    if (!marker) continue;
    const file = marker[1]!;
    const extension = file.slice(file.lastIndexOf('.') + 1);
    const code = readFileSync(join(repo, file), 'utf8').replace(/\n$/, '');
    out.push(`\`\`\`${LANGUAGES[extension] ?? ''}`, code, '```');
    // Skip the block the marker had, if any.
    if (lines[i + 1]?.startsWith('```')) {
      const end = lines.findIndex((line, j) => j > i + 1 && line.startsWith('```'));
      i = end < 0 ? lines.length : end;
    }
  }
  return out.join('\n');
}
