// Heads over a benchmark end to end: `mosear-lens eval` on six clips of the committed test split
// keeps each setting's flagged heads and the off run's head statistics in its records, writes
// the layer × head maps into summary.json and heads.csv and names the most-flagged heads; a
// second run with `--fixed-heads <first run>:share` adds "AR, fixed heads", whose flagged heads
// are exactly the chosen set in the enabled layers on every clip.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { runCli } from '../helpers/cliRun';
import { requireEngineFiles } from '../helpers/engineFixtures';
import { writeSplitManifest } from '../helpers/splitManifest';
import { scratchDir } from '../helpers/tempFiles';
import { readRunDirectory } from '../../src/core/evaluation/benchmarkRun';
import { decodeHeadMask } from '../../src/core/evaluation/headMaps';
import type { ClipOkRecord, PlannedCheckpoint } from '../../src/protocol/runFolder';
import type { BenchmarkSummary } from '../../src/protocol/evaluationSummary';
import { isOn } from '../../src/shared/onOff';

const SHARE = 0.3;

function summaryOf(dir: string): BenchmarkSummary {
  return JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as BenchmarkSummary;
}

async function okRecords(dir: string): Promise<ClipOkRecord[]> {
  const { records } = await readRunDirectory(dir);
  return records.filter((r): r is ClipOkRecord => r.ok);
}

describe('heads over a benchmark (mosear-lens eval)', () => {
  const dir = scratchDir('eval-heads');
  const chosen = join(dir, 'chosen');
  const fixed = join(dir, 'fixed');
  let manifest = '';
  let stdout = '';

  before(async () => {
    requireEngineFiles();
    manifest = writeSplitManifest(dir, 2);
    const run = await runCli(['eval', manifest, '--out', chosen]);
    assert.equal(run.code, 0, run.stderr);
    stdout = run.stdout;
  });

  test('records keep each setting’s flagged heads and the off run’s head statistics', async () => {
    const { plan } = await readRunDirectory(chosen);
    assert.ok(plan !== null);
    const records = await okRecords(chosen);
    assert.equal(records.length, 12);
    for (const r of records) {
      const c: PlannedCheckpoint = plan.checkpoints.find((x) => x.name === r.checkpoint)!;
      const L = c.settings[0]!.controls.headOverride.length;
      const Hh = c.settings[0]!.controls.headOverride[0]!.length;
      const masks = r.flagMasks ?? [];
      assert.equal(masks.length, c.settings.length);
      assert.equal(r.headStatistics?.length, L * Hh);
      assert.ok(r.headStatistics.every((s) => Number.isFinite(s) && s >= 0));
      // Each mask holds as many heads as the flagged-heads count of ar_flags.
      masks.forEach((mask, k) =>
        assert.equal(
          decodeHeadMask(mask, L * Hh).filter(Boolean).length,
          r.flaggedHeads[k],
          `${r.checkpoint} clip ${r.clip} setting ${c.settings[k]!.id}`,
        ),
      );
    }
  });

  test('summary.json and heads.csv hold the maps; the text names the most-flagged heads', async () => {
    const summary = summaryOf(chosen);
    const records = await okRecords(chosen);
    let rows = 0;
    let flagging = 0;
    for (const c of summary.checkpoints) {
      const heads = c.heads;
      assert.ok(heads, `${c.name} has head maps`);
      assert.deepEqual(
        heads.settings.map((s) => s.setting),
        ['ar', 'pai'],
      );
      const ar = heads.settings[0]!;
      assert.deepEqual(Object.keys(ar.groups).slice(0, 4), [
        'all',
        'consistent',
        'audio-aligned',
        'video-aligned',
      ]);
      assert.equal(ar.groups['all']!.clips, 6);
      // The all-clips share of AR, recounted from the records' masks.
      const mine = records.filter((r) => r.checkpoint === c.name);
      const counts = new Array<number>(heads.layers * heads.heads).fill(0);
      for (const r of mine) {
        decodeHeadMask(r.flagMasks![1]!, counts.length).forEach((f, i) => {
          if (f) counts[i]!++;
        });
      }
      assert.deepEqual(
        ar.groups['all']!.flagShare.flat(),
        counts.map((n) => Number((n / mine.length).toFixed(4))),
      );
      flagging += counts.filter((n) => n > 0).length;
      const right = ar.groups['right']?.clips ?? 0;
      const wrong = ar.groups['wrong']?.clips ?? 0;
      assert.equal(right + wrong, 6);
      for (const s of heads.settings) {
        rows += Object.keys(s.groups).length * heads.layers * heads.heads;
      }
    }
    assert.ok(flagging > 0, 'AR flags some head on these clips');
    const csv = readFileSync(join(chosen, 'heads.csv'), 'utf8').trim().split(/\r?\n/);
    assert.equal(
      csv[0],
      'checkpoint,setting,group,clips,layer,head,flag_share,mean_statistic,statistic',
    );
    assert.equal(csv.length - 1, rows);
    assert.match(
      stdout,
      /most-flagged heads \(L layer H head, share of clips\):\n(.*\n)*AR +L\d+H\d+ \d+%/,
    );
  });

  test('--fixed-heads adds AR on the chosen head set: its flags are that set in enabled layers', async () => {
    const run = await runCli([
      'eval',
      manifest,
      '--fixed-heads',
      `${chosen}:${SHARE}`,
      '--out',
      fixed,
      '--quiet',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const { plan } = await readRunDirectory(fixed);
    assert.ok(plan !== null);
    const source = summaryOf(chosen);
    const records = await okRecords(fixed);
    let forced = 0;
    for (const c of plan.checkpoints) {
      assert.deepEqual(
        c.settings.map((s) => s.id),
        ['off', 'ar', 'ar fixed', 'pai'],
      );
      const setting = c.settings[2]!;
      const share = source.checkpoints
        .find((x) => x.name === c.name)!
        .heads!.settings.find((s) => s.setting === 'ar')!.groups['all']!.flagShare;
      const expected = share.flat().map((x) => x >= SHARE);
      const n = expected.filter(Boolean).length;
      assert.equal(setting.title, `AR, fixed heads (${n} heads, chosen on ${basename(dir)})`);
      assert.deepEqual(
        setting.controls.headOverride.flat(),
        expected.map((on) => (on ? 1 : -1)),
      );
      const Hh = share[0]!.length;
      const inEnabled = expected.map(
        (on, i) => on && isOn(setting.controls.layers[Math.floor(i / Hh)]!),
      );
      forced += inEnabled.filter(Boolean).length;
      for (const r of records.filter((x) => x.checkpoint === c.name)) {
        assert.deepEqual(
          decodeHeadMask(r.flagMasks![2]!, expected.length),
          inEnabled,
          `${c.name} clip ${r.clip}`,
        );
      }
    }
    assert.ok(forced > 0, 'the fixed set holds heads in enabled layers');
    const summary = summaryOf(fixed);
    assert.ok(summary.checkpoints.every((c) => c.settings[2]?.versusOff !== null));
    assert.ok(existsSync(join(fixed, 'heads.csv')));

    const missing = await runCli([
      'eval',
      manifest,
      '--fixed-heads',
      join(dir, 'nowhere'),
      '--out',
      join(dir, 'x'),
      '--quiet',
    ]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /holds no evaluation/);
  });
});
