// A run folder as the evaluation reads it back: records.jsonl lines and plan.json parsed by their
// schemas (errors name the file, line and field), transient failures (a crash, a time-out, a
// cancel; flagged, or by code in older folders) never finished and replaced by a later record,
// a damaged plan.json answered with what to do; and the one atomic write every output uses.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  BENCHMARK_SCHEMA,
  BenchmarkError,
  FinishedClips,
  parsePlan,
  parseRecords,
  settleRecords,
  type ClipRecord,
} from '../../src/core/evaluation/benchmarkRecords';
import { readRunDirectory } from '../../src/core/evaluation/benchmarkRun';
import { writeFileAtomic } from '../../src/core/io/atomicWrite';
import { scratchDir } from '../helpers/tempFiles';

const ok = (clip: number, checkpoint: string): ClipRecord => ({
  schema: BENCHMARK_SCHEMA,
  clip,
  path: `c${clip}.mp4`,
  checkpoint,
  ok: true,
  predictions: [1],
  probabilities: [[0.25, 0.75]],
  flaggedHeads: [0],
  silenceUsed: false,
  uap: [{ visual: 0.5, audio: 0.25, text: 0.25, visualOfAV: 2 / 3, audioOfAV: 1 / 3 }],
  tokenAttention: [
    { audioToken: NaN, visualTokenMean: 0.1, visualTokenMax: 0.2, textTokenMean: 0.3 },
  ],
});

const failed = (
  clip: number,
  checkpoint: string | null,
  code: string,
  transient?: boolean,
): ClipRecord => ({
  schema: BENCHMARK_SCHEMA,
  clip,
  path: `c${clip}.mp4`,
  checkpoint,
  ok: false,
  error: { code, message: code },
  ...(transient === undefined ? {} : { transient }),
});

const lines = (records: ClipRecord[]) => records.map((r) => `${JSON.stringify(r)}\n`).join('');

describe('records.jsonl', () => {
  it('reads back what was written (NaN written as null reads as NaN)', () => {
    const { records } = parseRecords(lines([ok(0, 'a'), failed(1, null, 'NO_VIDEO')]));
    assert.deepEqual(records, [ok(0, 'a'), failed(1, null, 'NO_VIDEO')]);
  });

  it('names the line and field of a bad record', () => {
    const bad = { ...ok(0, 'a'), predictions: ['x'] };
    assert.throws(
      () => parseRecords(`${lines([ok(1, 'a')])}${JSON.stringify(bad)}\n`, 'r.jsonl'),
      (e) =>
        e instanceof BenchmarkError &&
        /^r\.jsonl:2: not a mosear-lens-eval\/1 record \(record\.predictions\[0\]: /.test(
          e.message,
        ),
    );
    assert.throws(() => parseRecords('{"clip":0}\n', 'r.jsonl'), /r\.jsonl:1: not a mosear-lens/);
  });

  it('counts a crash, a time-out or a cancel as unfinished, flagged or (older folders) by code', () => {
    const records = [
      failed(0, 'a', 'WORKER_CRASHED', true),
      failed(1, 'a', 'WORKER_CRASHED'), // written before the flag existed
      failed(2, 'a', 'TIMEOUT'),
      failed(3, null, 'CANCELLED', true),
      failed(4, 'a', 'WORKER_FAILED'), // onnxruntime refused the inputs: the clip's own
      failed(5, null, 'NO_VIDEO'),
      ok(6, 'a'),
    ];
    const finished = new FinishedClips(parseRecords(lines(records)).records);
    assert.deepEqual(
      records.map((r) => finished.clipDone(r.clip, ['a'])),
      [false, false, false, false, true, true, true],
    );
  });

  it('keeps the record that counts: a later one replaces a transient failure', () => {
    const records = [
      failed(0, 'a', 'WORKER_CRASHED', true),
      ok(0, 'b'),
      failed(1, null, 'TIMEOUT', true),
      failed(2, 'a', 'TIMEOUT', true),
      failed(2, 'a', 'WORKER_CRASHED', true),
      ok(0, 'a'),
      ok(1, 'a'),
    ];
    assert.deepEqual(settleRecords(records), [
      ok(0, 'b'),
      failed(2, 'a', 'WORKER_CRASHED', true),
      ok(0, 'a'),
      ok(1, 'a'),
    ]);
  });
});

describe('plan.json', () => {
  it('says what to do when it is torn or fails its schema', async () => {
    const dir = scratchDir('plan');
    writeFileSync(join(dir, 'plan.json'), '{"schema":"mosear-lens-eval/1","manif');
    await assert.rejects(
      readRunDirectory(dir),
      (e) =>
        e instanceof BenchmarkError &&
        e.message.startsWith(`${join(dir, 'plan.json')} is damaged (not valid JSON`) &&
        e.message.endsWith(
          `delete the run folder ${dir} or choose another --out folder to start over`,
        ),
    );
    assert.throws(
      () => parsePlan('{"schema":"mosear-lens-eval/1","manifest":{}}', 'p.json', '/r'),
      /p\.json is damaged \(plan\.manifest\.path: .*\): delete the run folder \/r/,
    );
    assert.throws(
      () => parsePlan('{"schema":"other"}', 'p.json', '/r'),
      /not a mosear-lens-eval\/1 plan/,
    );
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file whole, keeps its mode and leaves no temporary file', async () => {
    const dir = scratchDir('atomic');
    const file = join(dir, 'out.json');
    await writeFileAtomic(file, 'first\n');
    chmodSync(file, 0o600);
    await writeFileAtomic(file, new Uint8Array([0x7b, 0x7d]));
    assert.equal(readdirSync(dir).join(), 'out.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(file).size, 2);
    // A device cannot be replaced: it is written in place.
    await writeFileAtomic('/dev/null', 'discarded');
  });

  it('removes its temporary file when the write fails, leaving the old file', async () => {
    const dir = scratchDir('atomic-fail');
    const file = join(dir, 'out.json');
    await writeFileAtomic(file, 'old\n');
    // Data the file handle refuses: the temporary file exists by then and must go.
    await assert.rejects(
      writeFileAtomic(file, 42 as unknown as string),
      /ERR_INVALID_ARG_TYPE|must be/,
    );
    assert.deepEqual(readdirSync(dir), ['out.json']);
    assert.equal(readFileSync(file, 'utf8'), 'old\n');
  });
});
