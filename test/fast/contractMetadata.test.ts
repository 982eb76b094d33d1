import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ContractError } from '../../src/core/contract/contractError';
import { countTokens, parseContractMetadata } from '../../src/core/contract/metadata';
import { METADATA_KEYS } from '../../src/core/contract/names';
import { propsWith, toProps, validMetadataValues } from '../helpers/contractFixture';

/** Asserts that parsing fails with a ContractError whose message matches every pattern. */
function rejects(props: Map<string, string>, ...patterns: RegExp[]) {
  assert.throws(
    () => parseContractMetadata(props),
    (error: unknown) => {
      assert.ok(error instanceof ContractError, `expected ContractError, got ${String(error)}`);
      for (const p of patterns) assert.match(error.message, p);
      return true;
    },
  );
}

describe('parseContractMetadata', () => {
  it('parses a valid metadata set into camelCase fields', () => {
    const meta = parseContractMetadata(toProps(validMetadataValues()));
    assert.equal(meta.contract, '1');
    assert.equal(meta.checkpoint.trainingData, 'none');
    assert.deepEqual(meta.labels, ['neutral', 'angry', 'happy', 'sad', 'worried', 'surprise']);
    assert.equal(meta.architecture.layers, 4);
    assert.equal(meta.architecture.moseEps, 0.1);
    assert.equal(meta.tokenLayout.total, 73);
    assert.deepEqual(meta.tokenLayout.segments[0]?.grid, {
      frames: 4,
      rows: 4,
      cols: 4,
      order: 'frame,row,col',
    });
    assert.equal(countTokens(meta.tokenLayout, 'visual'), 64);
    assert.equal(countTokens(meta.tokenLayout, 'audio'), 1);
    assert.equal(countTokens(meta.tokenLayout, 'text'), 8);
    assert.deepEqual(meta.answerPositions, [72]);
    assert.equal(meta.audio.sampleRateHz, 16000);
    assert.deepEqual(meta.prompt.defaultIds, [1, 2, 3, 4, 5, 6, 7, 10]);
    assert.deepEqual(meta.arDefaults.layers, [0, 1, 1, 1]);
    assert.equal(meta.tauSweep.share.scale, 'linear');
  });

  it('ignores unknown keys', () => {
    const props = toProps(validMetadataValues());
    props.set('vendor.something', 'not even JSON');
    assert.doesNotThrow(() => parseContractMetadata(props));
  });

  it('accepts a checkpoint without MoSE (mose_eps null, no grid on text)', () => {
    const props = propsWith('mosear.architecture', (a) => {
      a['adapter'] = 'lora';
      a['mose'] = false;
      a['mose_eps'] = null;
    });
    assert.equal(parseContractMetadata(props).architecture.moseEps, null);
  });

  it('rejects a model that is not a contract model, or of an unknown version', () => {
    const props = toProps(validMetadataValues());
    props.delete('mosear.contract');
    rejects(props, /"mosear\.contract" is missing/);
    rejects(toProps(validMetadataValues(), '2'), /unsupported contract version "2"/, /knows "1"/);
  });

  for (const key of METADATA_KEYS) {
    it(`names the missing key ${key}`, () => {
      const props = toProps(validMetadataValues());
      props.delete(key);
      rejects(props, new RegExp(`"${key.replace('.', '\\.')}" is missing`));
    });
  }

  it('names a key whose value is not JSON', () => {
    const props = toProps(validMetadataValues());
    props.set('mosear.labels', '[neutral, sad]');
    rejects(props, /^mosear\.labels: not valid JSON/);
  });

  const cases: [string, string, (v: Record<string, unknown>) => void, RegExp][] = [
    [
      'a missing member',
      'mosear.checkpoint',
      (v) => delete v['training_data'],
      /^mosear\.checkpoint\.training_data: missing/,
    ],
    [
      'a non-integer layer count',
      'mosear.architecture',
      (v) => (v['layers'] = 2.5),
      /^mosear\.architecture\.layers: expected an integer ≥ 1, found 2\.5/,
    ],
    [
      'zero heads',
      'mosear.architecture',
      (v) => (v['heads'] = 0),
      /^mosear\.architecture\.heads: expected an integer ≥ 1, found 0/,
    ],
    [
      'an unknown adapter',
      'mosear.architecture',
      (v) => (v['adapter'] = 'qlora'),
      /^mosear\.architecture\.adapter: expected one of "none", "lora", "mose", found "qlora"/,
    ],
    [
      'a string where a boolean belongs',
      'mosear.architecture',
      (v) => (v['mose'] = 'yes'),
      /^mosear\.architecture\.mose: expected true or false/,
    ],
    [
      'a gap between segments',
      'mosear.token_layout',
      (v) =>
        (((v['segments'] as Record<string, unknown>[])[1] as Record<string, unknown>)['start'] =
          65),
      /^mosear\.token_layout\.segments\[1\]\.start: expected 64 \(segments must be contiguous/,
    ],
    [
      'a total that disagrees with the segments',
      'mosear.token_layout',
      (v) => (v['total'] = 80),
      /^mosear\.token_layout\.total: expected 73/,
    ],
    [
      'a grid that does not cover the visual tokens',
      'mosear.token_layout',
      (v) => {
        const seg = (v['segments'] as Record<string, Record<string, unknown>>[])[0];
        if (seg?.['grid']) seg['grid']['rows'] = 3;
      },
      /^mosear\.token_layout\.segments\[0\]\.grid: expected frames·rows·cols = count \(64\), found "48 cells"/,
    ],
    [
      'a visual segment without a grid',
      'mosear.token_layout',
      (v) => delete (v['segments'] as Record<string, unknown>[])[0]?.['grid' as never],
      /^mosear\.token_layout\.segments\[0\]\.grid: missing/,
    ],
    [
      'a layout without audio',
      'mosear.token_layout',
      (v) => {
        const segs = v['segments'] as Record<string, unknown>[];
        if (segs[1]) segs[1]['modality'] = 'text';
      },
      /^mosear\.token_layout\.segments: no audio segment/,
    ],
    [
      'an unknown modality',
      'mosear.token_layout',
      (v) => {
        const segs = v['segments'] as Record<string, unknown>[];
        if (segs[2]) segs[2]['modality'] = 'smell';
      },
      /^mosear\.token_layout\.segments\[2\]\.modality: expected one of/,
    ],
    [
      'a frame range other than [0, 1]',
      'mosear.frames',
      (v) => (v['range'] = [0, 255]),
      /^mosear\.frames\.range: expected \[0, 1\], found \[0,255\]/,
    ],
    [
      'samples that disagree with rate × window',
      'mosear.audio',
      (v) => (v['samples'] = 16000),
      /^mosear\.audio\.samples: expected sample_rate_hz · window_seconds, found 16000/,
    ],
    [
      'audio tokens that disagree with the layout',
      'mosear.audio',
      (v) => (v['tokens'] = 2),
      /^mosear\.audio\.tokens: expected 1 \(the audio positions/,
    ],
    [
      'a prompt id outside the vocabulary',
      'mosear.prompt',
      (v) => ((v['default_ids'] as number[])[0] = 99),
      /^mosear\.prompt\.default_ids\[0\]: expected an id < 11/,
    ],
    [
      'prompt ids that do not spell the default prompt',
      'mosear.prompt',
      (v) => ((v['default_ids'] as number[])[1] = 3),
      /^mosear\.prompt\.default_ids\[1\]: expected the id of "what", found "3 \(\\"emotion\\"\)"/,
    ],
    [
      'an unknown decode spec',
      'mosear.decode',
      (v) => (v['spec'] = 'mosear-decode-2'),
      /^mosear\.decode\.spec: expected one of "mosear-decode-1"/,
    ],
    [
      'a τ vector of the wrong length',
      'mosear.ar_defaults',
      (v) => (v['tau'] = [0.5, 0.5]),
      /^mosear\.ar_defaults\.tau: expected an array of length 4, found "length 2"/,
    ],
    [
      'a non-numeric τ',
      'mosear.ar_defaults',
      (v) => ((v['tau'] as unknown[])[3] = 'high'),
      /^mosear\.ar_defaults\.tau\[3\]: expected a finite number, found "high"/,
    ],
    [
      'α outside [0, 1]',
      'mosear.ar_defaults',
      (v) => (v['alpha'] = 1.5),
      /^mosear\.ar_defaults\.alpha: expected a number in \[0, 1\], found 1\.5/,
    ],
    [
      'an unknown mode',
      'mosear.ar_defaults',
      (v) => (v['mode'] = 3),
      /^mosear\.ar_defaults\.mode: expected one of 0, 1, 2, found 3/,
    ],
    [
      'a layer switch other than 0/1',
      'mosear.ar_defaults',
      (v) => ((v['layers'] as number[])[0] = 0.5),
      /^mosear\.ar_defaults\.layers\[0\]: expected 0 or 1/,
    ],
    [
      'a log sweep starting at 0',
      'mosear.tau_sweep',
      (v) => ((v['raw'] as Record<string, unknown>)['min'] = 0),
      /^mosear\.tau_sweep\.raw\.min: expected a number > 0 on a log scale/,
    ],
    [
      'a sweep with one step',
      'mosear.tau_sweep',
      (v) => ((v['share'] as Record<string, unknown>)['steps'] = 1),
      /^mosear\.tau_sweep\.share\.steps: expected an integer ≥ 2/,
    ],
  ];
  for (const [what, key, edit, pattern] of cases) {
    it(`names ${key} for ${what}`, () => rejects(propsWith(key, edit), pattern));
  }

  it('rejects too few or duplicate labels', () => {
    const values = validMetadataValues();
    values['mosear.labels'] = ['only'];
    rejects(toProps(values), /^mosear\.labels: expected an array of at least 2 items/);
    values['mosear.labels'] = ['sad', 'happy', 'sad'];
    rejects(toProps(values), /^mosear\.labels: "sad" appears more than once/);
  });

  it('rejects answer positions outside the layout', () => {
    const values = validMetadataValues();
    values['mosear.answer_positions'] = [73];
    rejects(toProps(values), /^mosear\.answer_positions\[0\]: expected a position < 73, found 73/);
    values['mosear.answer_positions'] = [];
    rejects(toProps(values), /^mosear\.answer_positions: expected an array of at least 1 items/);
  });
});
