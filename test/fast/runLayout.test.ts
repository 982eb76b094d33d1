import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ContractError } from '../../src/core/contract/contractError';
import { countTokens, parseContractMetadata } from '../../src/core/contract/metadata';
import { audioSampleRange, resolveRunLayout } from '../../src/core/contract/runLayout';
import { readOnnxModelInfo } from '../../src/core/onnx/modelProto';
import {
  props11With,
  toProps,
  valid11MetadataValues,
  validMetadataValues,
} from '../helpers/contractFixture';
import { REPO_ROOT } from '../helpers/golden';

const FULLSHAPE = join(REPO_ROOT, 'models', 'fixtures', 'emotion-llama-fullshape.onnx');

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

describe('contract 1.1 metadata', () => {
  it('parses every 1.1 field, the layout resolved at the slots defaults', () => {
    const meta = parseContractMetadata(toProps(valid11MetadataValues(), '1.1'));
    assert.equal(meta.contract, '1.1');
    assert.equal(meta.checkpoint.trainingData, null);
    assert.equal(meta.architecture.positionEncoding, 'rope');
    assert.equal(meta.tokenLayout.total, 23);
    assert.equal(meta.tokenLayout.variableSegment, 'prompt');
    assert.deepEqual(
      meta.tokenLayout.segments.map((s) => [s.name, s.start, s.count]),
      [
        ['prefix', 0, 7],
        ['patches', 7, 4],
        ['face', 11, 1],
        ['hubert', 12, 1],
        ['prompt', 13, 10],
      ],
    );
    assert.deepEqual(meta.tokenLayout.segments[1]?.grid?.frameIndex, [0]);
    assert.equal(meta.tokenLayout.segments[1]?.label, 'Patches');
    assert.equal(countTokens(meta.tokenLayout, 'visual'), 5);
    assert.deepEqual(meta.answerPositions, [-1]);
    assert.equal(meta.audio.length, 'variable');
    assert.equal(meta.audio.minSamples, 1600);
    assert.deepEqual(audioSampleRange(meta), { min: 1600, max: 16000 });
    assert.deepEqual(meta.decode, {
      spec: 'mosear-decode-1',
      frameTimes: 'first',
      resize: 'squash',
      scaleFlags: 'bicubic',
      audioWindow: 'from-start',
      audioPad: 'zeros-at-end',
    });
    assert.deepEqual(meta.prompt.slots, { transcript: { default: "I can't go", maxTokens: 8 } });
    assert.equal(meta.prompt.tokenizer?.unk, '<unk>');
  });

  it('leaves a contract-1 model exactly as before (no 1.1 field, defaults mean v1)', () => {
    const meta = parseContractMetadata(toProps(validMetadataValues()));
    assert.equal(meta.tokenLayout.variableSegment, undefined);
    assert.equal(meta.architecture.positionEncoding, undefined);
    assert.equal(meta.audio.length, undefined);
    assert.equal(meta.prompt.template, undefined);
    assert.deepEqual(audioSampleRange(meta), { min: 32000, max: 32000 });
    assert.deepEqual(Object.keys(meta.tokenLayout.segments[0]!), [
      'modality',
      'start',
      'count',
      'grid',
    ]);
    // training_data may be null under both versions.
    const values = validMetadataValues();
    (values['mosear.checkpoint'] as Record<string, unknown>).training_data = null;
    assert.equal(parseContractMetadata(toProps(values)).checkpoint.trainingData, null);
    // A v1 reader's decode values stay the only ones allowed for a v1 model.
    const squash = validMetadataValues();
    (squash['mosear.decode'] as Record<string, unknown>).resize = 'squash';
    rejects(toProps(squash), /mosear\.decode\.resize: expected one of "cover-center-crop"/);
  });

  it('refuses layouts that break §3.1', () => {
    type Seg = Record<string, unknown>;
    const segs = (v: Record<string, unknown>) => v.segments as Seg[];
    rejects(
      props11With('mosear.token_layout', (v) => {
        segs(v)[0]!.count = null;
      }),
      /more than one segment has count null/,
    );
    rejects(
      props11With('mosear.token_layout', (v) => {
        v.total = 24;
      }),
      /token_layout\.total: expected null/,
    );
    rejects(
      props11With('mosear.token_layout', (v) => {
        segs(v)[2]!.name = 'Face';
      }),
      /segments\[2\]\.name: expected a name matching/,
    );
    rejects(
      props11With('mosear.token_layout', (v) => {
        segs(v)[2]!.name = 'patches';
      }),
      /"patches" appears more than once/,
    );
    rejects(
      props11With('mosear.token_layout', (v) => {
        segs(v)[1]!.grid = {
          frames: 1,
          rows: 2,
          cols: 2,
          order: 'frame,row,col',
          frame_index: [1],
        };
      }),
      /frame_index\[0\]: expected an input frame < T = 1/,
    );
    rejects(
      props11With('mosear.token_layout', (v) => {
        segs(v)[1]!.grid = {
          frames: 1,
          rows: 2,
          cols: 2,
          order: 'frame,row,col',
          cell_px: { width: 17, height: 16 },
        };
      }),
      /cell_px\.width: expected cols · width ≤ W = 32/,
    );
    rejects(
      props11With('mosear.token_layout', (v) => {
        segs(v)[1]!.count = 3;
        segs(v)[1]!.grid = { frames: 1, rows: 1, cols: 3, order: 'frame,row,col' };
      }),
      /cell_px: required \(32 × 32 does not divide into 3 × 1 cells\)/,
    );
    rejects(
      props11With('mosear.token_layout', (v) => {
        segs(v)[0]!.count = 6;
      }),
      /template\.prefix: gives 7 positions, the segment's count is 6/,
    );
  });

  it('refuses prompts that break §3.1 (template, slots, unk, defaults)', () => {
    rejects(
      props11With('mosear.prompt', (v) => {
        (v.tokenizer as Record<string, unknown>).unk = null;
      }),
      /tokenizer\.unk: null, but the template has slots/,
    );
    rejects(
      props11With('mosear.prompt', (v) => {
        (v.tokenizer as Record<string, unknown>).kind = 'bpe';
      }),
      /mosear\.prompt\.tokenizer\.kind: expected a tokenizer of kind "word-level" or "sentencepiece", found "bpe"/,
    );
    rejects(
      props11With('mosear.prompt', (v) => {
        (v.template as Record<string, unknown[]>).prompt![0] = { kind: 'text', text: 'shouts:' };
      }),
      /the word "shouts" is not in mosear\.prompt\.vocab/,
    );
    rejects(
      props11With('mosear.prompt', (v) => {
        v.slots = {
          transcript: { default: "I can't go", max_tokens: 8 },
          extra: { default: '', max_tokens: 1 },
        };
      }),
      /slots\.extra: no template piece uses this slot/,
    );
    rejects(
      props11With('mosear.prompt', (v) => {
        v.slots = { transcript: { default: 'I go', max_tokens: 8 } };
      }),
      /default_ids: expected the template's ids/,
    );
  });

  it('refuses audio, decode and answer positions that break §3.2', () => {
    rejects(
      props11With('mosear.audio', (v) => {
        delete v.min_samples;
      }),
      /min_samples: required when length is "variable"/,
    );
    rejects(
      props11With('mosear.decode', (v) => {
        v.audio_window = 'centered';
      }),
      /audio_window: expected "from-start"/,
    );
    const twoFrames = valid11MetadataValues();
    (twoFrames['mosear.frames'] as Record<string, unknown>).count = 2;
    rejects(
      toProps(twoFrames, '1.1'),
      /frames\.count: expected 1 \(mosear\.decode\.frame_times is "first"\)/,
    );
    const far = valid11MetadataValues();
    far['mosear.answer_positions'] = [-40];
    rejects(toProps(far, '1.1'), /answer_positions\[0\]/);
    rejects(
      toProps(valid11MetadataValues(), '2'),
      /unsupported contract version "2".*"1", "1\.1" and "1\.2"/,
    );
  });
});

describe('contract 1.1 sentencepiece tokenizer kind (parsing, no tokenizer loaded)', () => {
  const SHA = 'ab'.repeat(32);
  /** The 1.1 fixture with the sentencepiece kind (the ids stay the fixture's). */
  function sentencePiece(edit: (prompt: Record<string, unknown>) => void = () => {}) {
    return props11With('mosear.prompt', (p) => {
      p.tokenizer = {
        kind: 'sentencepiece',
        unk: '<unk>',
        ref: `m.tokenizer.model sha256:${SHA}`,
        file: 'm.tokenizer.model',
        sha256: SHA,
        segment_encoding: 'joined',
        rule: 'in words',
      };
      edit(p);
    });
  }

  it('lays out the defaults from default_ids: the variable segment gets what the fixed ones leave', () => {
    const meta = parseContractMetadata(sentencePiece());
    assert.deepEqual(meta.prompt.tokenizer, {
      kind: 'sentencepiece',
      unk: '<unk>',
      ref: `m.tokenizer.model sha256:${SHA}`,
      file: 'm.tokenizer.model',
      sha256: SHA,
      segmentEncoding: 'joined',
    });
    assert.equal(meta.tokenLayout.total, 23);
    assert.deepEqual(
      meta.tokenLayout.segments.map((s) => [s.name, s.start, s.count]),
      [
        ['prefix', 0, 7],
        ['patches', 7, 4],
        ['face', 11, 1],
        ['hubert', 12, 1],
        ['prompt', 13, 10],
      ],
    );
    // a run needs the tokenizer; parsing never did
    assert.throws(
      () => resolveRunLayout(meta),
      /needs its SentencePiece tokenizer \(m\.tokenizer\.model\)/,
    );
  });

  it('refuses a bad file hash, an unknown encoding, too few default ids, an unknown special', () => {
    rejects(
      sentencePiece((p) => ((p.tokenizer as Record<string, unknown>).sha256 = 'ABC')),
      /mosear\.prompt\.tokenizer\.sha256: expected a lower-case hex SHA-256, found "ABC"/,
    );
    rejects(
      sentencePiece((p) => ((p.tokenizer as Record<string, unknown>).segment_encoding = 'split')),
      /segment_encoding: expected one of "joined", found "split"/,
    );
    rejects(
      sentencePiece((p) => {
        p.default_ids = (p.default_ids as number[]).slice(0, 7);
        p.default = (p.default as string[]).slice(0, 7);
      }),
      /default_ids: expected more than 7 ids .*found "7 ids"/,
    );
    rejects(
      sentencePiece((p) => {
        (p.template as Record<string, unknown[]>).prefix![0] = { kind: 'special', token: '</s>' };
      }),
      /template\.prefix\[0\]\.token: "<\/s>" is not in mosear\.prompt\.vocab/,
    );
  });
});

describe('resolveRunLayout (CONTRACT.md §3.3)', () => {
  it('resolves the default run: segments, N, prompt ids, text kinds, answer position', () => {
    const meta = parseContractMetadata(toProps(valid11MetadataValues(), '1.1'));
    const run = resolveRunLayout(meta);
    assert.equal(run.layout.total, 23);
    assert.deepEqual(run.promptIds, meta.prompt.defaultIds);
    assert.deepEqual(run.answerPositions, [22]);
    assert.deepEqual(run.layout.text[0], {
      position: 0,
      id: 1,
      token: '<s>',
      text: '<s>',
      kind: 'special',
    });
    assert.deepEqual(
      run.layout.text.slice(7).map((t) => [t.position, t.kind, t.text]),
      [
        [13, 'template', 'says'],
        [14, 'template', ':'],
        [15, 'slot', 'I'],
        [16, 'slot', "can't"],
        [17, 'slot', 'go'],
        [18, 'template', '.'],
        [19, 'template', '['],
        [20, 'template', '/'],
        [21, 'template', 'INST'],
        [22, 'template', ']'],
      ],
    );
    assert.equal(run.layout.text[9]?.slot, 'transcript');
  });

  it('follows the slot value: unknown words are unk, N and the answer position move', () => {
    const meta = parseContractMetadata(toProps(valid11MetadataValues(), '1.1'));
    const run = resolveRunLayout(meta, { slots: { transcript: 'Go!' } });
    assert.equal(run.layout.total, 22);
    assert.deepEqual(run.answerPositions, [21]);
    const slot = run.layout.text.filter((t) => t.kind === 'slot');
    assert.deepEqual(
      slot.map((t) => [t.id, t.token, t.text]),
      [
        [0, '<unk>', 'Go'],
        [0, '<unk>', '!'],
      ],
    );
    assert.equal(run.promptIds.length, run.layout.text.length);
    // An empty transcript still leaves the template's positions.
    assert.equal(resolveRunLayout(meta, { slots: { transcript: '' } }).layout.total, 20);
    // max_tokens cuts the slot.
    const long = resolveRunLayout(meta, { slots: { transcript: 'I I I I I I I I I I I' } });
    assert.equal(long.layout.total, 20 + 8);
    assert.throws(
      () => resolveRunLayout(meta, { slots: { speaker: 'x' } }),
      /no prompt slot "speaker"/,
    );
  });

  it('names a contract-1 layout visual, audio, prompt and labels its prompt ids', () => {
    const meta = parseContractMetadata(toProps(validMetadataValues()));
    const run = resolveRunLayout(meta);
    assert.deepEqual(
      run.layout.segments.map((s) => [s.name, s.start, s.count]),
      [
        ['visual', 0, 64],
        ['audio', 64, 1],
        ['prompt', 65, 8],
      ],
    );
    assert.equal(run.layout.total, 73);
    assert.deepEqual(run.answerPositions, [72]);
    assert.deepEqual(run.promptIds, meta.prompt.defaultIds);
    assert.deepEqual(
      run.layout.text.map((t) => t.kind),
      [
        'special',
        'template',
        'template',
        'template',
        'template',
        'template',
        'template',
        'special',
      ],
    );
    assert.throws(() => resolveRunLayout(meta, { slots: { transcript: 'x' } }), /no prompt slot/);
  });

  it('gives the full-shape fixture N = 329 and its default_ids', async () => {
    const meta = parseContractMetadata((await readOnnxModelInfo(FULLSHAPE)).metadata);
    const run = resolveRunLayout(meta);
    assert.equal(meta.contract, '1.1');
    assert.equal(run.layout.total, 329);
    assert.deepEqual(run.promptIds, meta.prompt.defaultIds);
    assert.equal(run.promptIds.length, 69);
    assert.deepEqual(run.answerPositions, [328]);
    assert.equal(countTokens(meta.tokenLayout, 'visual'), 259);
    assert.equal(countTokens(meta.tokenLayout, 'audio'), 1);
    const eva = run.layout.segments.find((s) => s.name === 'eva_patches');
    assert.deepEqual(eva?.grid?.cellPx, { width: 56, height: 14 });
    assert.deepEqual(
      run.layout.segments.map((s) => s.start),
      [0, 7, 263, 270, 271, 272, 273, 274],
    );
  });
});
