/**
 * The stdout log destination (src/http/logging.ts): lines go out in batches, in order, a batch
 * once its first line has waited the batch delay or once it is large, and none is lost when the
 * process exits, even through an uncaught exception.
 *
 * Run: node --import tsx --test test/http/log-output.test.ts
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { BatchedLogWriter } from '../../src/http/logging.js';

describe('log lines are written in batches', () => {
  it('writes the lines logged within the delay in one write, in order, once the delay has passed', async () => {
    const writes: string[] = [];
    const writer = new BatchedLogWriter((data) => writes.push(data), 30, 1_000_000);
    writer.write('{"msg":"a"}\n');
    writer.write('{"msg":"b"}\n');
    await new Promise((resolve) => setImmediate(resolve));
    writer.write('{"msg":"c"}\n');
    assert.deepEqual(writes, [], 'nothing is written before the delay');
    await sleep(80);
    assert.deepEqual(writes, ['{"msg":"a"}\n{"msg":"b"}\n{"msg":"c"}\n']);
    writer.write('{"msg":"d"}\n');
    await sleep(80);
    assert.deepEqual(
      writes,
      ['{"msg":"a"}\n{"msg":"b"}\n{"msg":"c"}\n', '{"msg":"d"}\n'],
      'a later line, a later write',
    );
    await sleep(80);
    assert.equal(writes.length, 2, 'no empty write when nothing was logged');
  });

  it('writes at once when the pending lines reach the size limit', () => {
    const writes: string[] = [];
    const writer = new BatchedLogWriter((data) => writes.push(data), 60_000, 20);
    writer.write('0123456789\n');
    assert.deepEqual(writes, []);
    writer.write('0123456789\n');
    assert.deepEqual(writes, ['0123456789\n0123456789\n']);
  });

  it('flush writes at once what was logged', () => {
    const writes: string[] = [];
    const writer = new BatchedLogWriter((data) => writes.push(data), 60_000);
    writer.write('x\n');
    writer.flush();
    assert.deepEqual(writes, ['x\n']);
  });

  it('stdout: pending lines reach stdout when the process dies of an uncaught exception', () => {
    const logging = fileURLToPath(new URL('../../src/http/logging.ts', import.meta.url));
    const script = [
      `const { stdoutLogDestination } = await import(${JSON.stringify(logging)});`,
      'const out = stdoutLogDestination();',
      "for (let i = 0; i < 1000; i++) out.write(JSON.stringify({ msg: 'line', i }) + '\\n');",
      "throw new Error('boom');",
    ].join('\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    assert.notEqual(child.status, 0, 'the process failed');
    assert.match(child.stderr, /boom/);
    const lines = child.stdout.trim().split('\n');
    assert.equal(lines.length, 1000);
    assert.deepEqual(
      lines.map((line) => (JSON.parse(line) as { i: number }).i),
      Array.from({ length: 1000 }, (_, i) => i),
    );
  });

  it('stdout: pending lines reach stdout when the process ends normally', () => {
    const logging = fileURLToPath(new URL('../../src/http/logging.ts', import.meta.url));
    const script = [
      `const { stdoutLogDestination } = await import(${JSON.stringify(logging)});`,
      'stdoutLogDestination().write(\'{"msg":"last"}\\n\');',
    ].join('\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    assert.equal(child.status, 0);
    assert.equal(child.stdout, '{"msg":"last"}\n');
  });
});
