// The TypeScript SentencePiece tokenizer gives python3-sentencepiece's ids: a LLaMA-style model
// (BPE, byte fallback, unk 0, BOS 1, EOS 2, identity normalizer, dummy prefix) is trained here by
// Python, which also encodes the texts; the tokenizer must give the same ids, also for the
// MiniGPT-v2 template (two BOS) and non-ASCII transcripts (accents, CJK, emoji → byte pieces).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ContractError } from '../../src/core/contract/contractError';
import { SentencePieceTokenizer } from '../../src/core/tokenizer/sentencePiece';
import { scratchDir } from '../helpers/tempFiles';

const dir = scratchDir('sentencepiece');
const PYTHON = process.env['MOSEAR_PYTHON'] ?? '/usr/bin/python3';

// Trains the model (argv[1]) and answers [[plain ids], [HF legacy ids with BOS]] per text on
// stdin. The legacy ids: split on <unk>/<s>/</s>, each other chunk sp.encode'd alone, BOS first.
const PY = String.raw`
import io, json, re, sys
import sentencepiece as spm
out = sys.argv[1]
corpus = """The person in video says: I can't believe it happened again, honestly.
Please determine which emotion label in the video represents: happy, sad, neutral, angry, worried, surprise, fear, contempt, doubt.
[INST] <video></video> <feature></feature> [/INST] [emotion] The person seems calm 123 4567.
Café naïve résumé déjà vu. Él dijo: ¡qué sorpresa! Über die Straße, ça va? Ærø og Ødegård.
She said "no" -- then whispered 'maybe'; they laughed (twice) & left at 10:45.""".splitlines() * 30
model = io.BytesIO()
spm.SentencePieceTrainer.train(
    sentence_iterator=iter(corpus), model_writer=model, vocab_size=480, model_type='bpe',
    byte_fallback=True, unk_id=0, bos_id=1, eos_id=2, pad_id=-1, character_coverage=1.0,
    add_dummy_prefix=True, remove_extra_whitespaces=False, normalization_rule_name='identity',
    split_digits=True, allow_whitespace_only_pieces=True, minloglevel=2)
open(out, 'wb').write(model.getvalue())
sp = spm.SentencePieceProcessor(model_file=out)
ids = {'<unk>': 0, '<s>': 1, '</s>': 2}
def legacy(text):
    res = [1]
    for chunk in re.split('(<unk>|<s>|</s>)', text):
        if chunk in ids:
            res.append(ids[chunk])
        elif chunk:
            res.extend(sp.encode(chunk))
    return res
print(json.dumps([[sp.encode(t), legacy(t)] for t in json.loads(sys.stdin.buffer.read().decode('utf-8'))]))
`;

const TEMPLATE =
  '<s>[INST] <video><VideoHere></video> <feature><FeatureHere></feature> The person in video says: {}. [emotion] Please determine which emotion label in the video represents: happy, sad, neutral, angry, worried, surprise, fear, contempt, doubt. [/INST]';

const TRANSCRIPTS = [
  "I can't believe it happened again.",
  'Café naïve résumé — déjà vu!',
  '我真的很生气，你知道吗？',
  'お元気ですか 😀👍🏽 ok',
  'Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich.',
  '',
  ' ',
  '  leading and trailing  ',
  'tabs\tand\nnewlines\r\nhere',
  'multiple   inner    spaces',
  'digits 3.14159 and 2026-12-07',
  'a literal <s> and </s> and <unk> inside',
  '<s>',
  'x<s>y',
  '\u00a0non-breaking\u2009thin\u200bzero-width',
  'e\u0301 (combining) vs é',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math and \u{1F9D1}\u200D\u{1F4BB}',
];

const TEXTS = [
  ...TRANSCRIPTS,
  ...TRANSCRIPTS.map((t) => TEMPLATE.replace('{}', t)),
  // get_context_emb's parts of the default prompt: split at <VideoHere>.
  ...TEMPLATE.replace('{}', 'hello').split('<VideoHere>'),
];

function python(modelPath: string, texts: readonly string[]): [number[], number[]][] {
  const run = spawnSync(PYTHON, ['-c', PY, modelPath], {
    input: JSON.stringify(texts),
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  assert.equal(
    run.status,
    0,
    `${PYTHON} with python3-sentencepiece failed (apt install python3-sentencepiece): ${run.error?.message ?? run.stderr}`,
  );
  return JSON.parse(run.stdout) as [number[], number[]][];
}

/** The text pieces spell (▁ a space, `<0xNN>` a byte). */
function spelled(pieces: readonly string[]): string {
  const bytes = pieces.flatMap((p) =>
    /^<0x[0-9A-F]{2}>$/.test(p)
      ? [parseInt(p.slice(3, 5), 16)]
      : [...new TextEncoder().encode(p.replaceAll('▁', ' '))],
  );
  return new TextDecoder().decode(new Uint8Array(bytes));
}

describe('SentencePiece ids equal python3-sentencepiece', () => {
  const modelPath = join(dir, 'tokenizer.model');
  const expected = python(modelPath, TEXTS);

  it('plain encode: every text, non-ASCII and whitespace included', async () => {
    const tokenizer = await SentencePieceTokenizer.fromFile(modelPath);
    // No specials in a plain encode: python's sp.encode never parses <s>.
    TEXTS.forEach((text, i) => {
      if (/<unk>|<s>|<\/s>/.test(text)) return;
      assert.deepEqual(tokenizer.encode(text, { addBos: false }), expected[i]![0], text);
    });
  });

  it('the slow LlamaTokenizer rule: specials parsed, chunks alone, BOS first', async () => {
    const tokenizer = await SentencePieceTokenizer.fromFile(modelPath);
    TEXTS.forEach((text, i) => {
      assert.deepEqual(tokenizer.encode(text, { addBos: true }), expected[i]![1], text);
    });
  });

  it('the template gives two BOS ids, and non-ASCII falls back to byte pieces', async () => {
    const tokenizer = await SentencePieceTokenizer.fromFile(modelPath);
    const ids = tokenizer.encode(TEMPLATE.split('<VideoHere>')[0]!, { addBos: true });
    assert.deepEqual(ids.slice(0, 2), [1, 1]);
    const pieces = tokenizer.encodeTokens('我 😀', { addBos: false }).map((t) => t.piece);
    assert.ok(pieces.includes('<0xF0>'), pieces.join(' '));
  });

  it('tags each token with the part it came from, merging across parts as one text', async () => {
    const tokenizer = await SentencePieceTokenizer.fromFile(modelPath);
    const parts = [
      { text: 'The person in video says: ', tag: 'template' },
      { text: 'Café 我 ok', tag: 'slot' },
      { text: '. [emotion]', tag: 'template' },
    ];
    const tokens = tokenizer.encodeParts(parts, { addBos: false });
    assert.deepEqual(
      tokens.map((t) => t.id),
      tokenizer.encode(parts.map((p) => p.text).join(''), { addBos: false }),
    );
    const text = (tag: string) => spelled(tokens.filter((t) => t.tag === tag).map((t) => t.piece));
    assert.equal(text('slot'), ' Café 我 ok');
    assert.equal(text('template'), ' The person in video says:. [emotion]');
    assert.equal(tokens[0]!.tag, 'template');
    assert.equal(tokens.at(-1)!.tag, 'template');
  });

  it('checks the file the metadata names: missing, wrong hash, not a model', async () => {
    const onnx = join(dir, 'model.onnx');
    const sha256 = createHash('sha256').update(readFileSync(modelPath)).digest('hex');
    const ok = await SentencePieceTokenizer.forModel(onnx, { path: 'tokenizer.model', sha256 });
    assert.equal(ok.bosId, 1);
    const rejects = (path: string, hash: string, text: RegExp) =>
      assert.rejects(SentencePieceTokenizer.forModel(onnx, { path, sha256: hash }), (e) => {
        assert.ok(e instanceof ContractError && text.test(e.message), String(e));
        return true;
      });
    await rejects('absent.model', sha256, /absent\.model .*cannot be read: ENOENT/);
    await rejects('tokenizer.model', '0'.repeat(64), /has sha256 [0-9a-f]{64}, .*expects 0{64}/);
    const junk = join(dir, 'junk.model');
    writeFileSync(junk, 'not a model');
    const junkHash = createHash('sha256').update('not a model').digest('hex');
    await rejects('junk.model', junkHash, /junk\.model is not a SentencePiece model/);
  });
});
