import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ContractError } from '../../src/core/contract/contractError';
import {
  splitWords,
  tokenizeSlotText,
  tokenizeTemplateText,
  vocabularyOf,
} from '../../src/core/contract/tokenizer';

describe('word-level tokenizer (CONTRACT.md §3.1)', () => {
  it('keeps inner apostrophes in a word and splits every other non-space character', () => {
    assert.deepEqual(splitWords("I can't believe it's 'quoted' rock'n'roll dogs'"), [
      'I',
      "can't",
      'believe',
      "it's",
      "'",
      'quoted',
      "'",
      "rock'n'roll",
      'dogs',
      "'",
    ]);
  });

  it('splits punctuation, brackets and non-ASCII letters by code point', () => {
    assert.deepEqual(splitWords('[INST] <video> says: happy, sad. [/INST]'), [
      '[',
      'INST',
      ']',
      '<',
      'video',
      '>',
      'says',
      ':',
      'happy',
      ',',
      'sad',
      '.',
      '[',
      '/',
      'INST',
      ']',
    ]);
    assert.deepEqual(splitWords('café 😀x'), ['caf', 'é', '😀', 'x']);
    assert.deepEqual(splitWords('a1-B2'), ['a1', '-', 'B2']);
  });

  it('separates on exactly the six whitespace characters', () => {
    assert.deepEqual(splitWords(' a\tb\nc\rd\fe\vf '), ['a', 'b', 'c', 'd', 'e', 'f']);
    // A no-break space is not one of them: it is a word by itself.
    assert.deepEqual(splitWords('a\u00a0b'), ['a', '\u00a0', 'b']);
    assert.deepEqual(splitWords(''), []);
  });

  it('maps slot words outside the vocabulary to unk and cuts to max_tokens', () => {
    const vocab = vocabularyOf(['<unk>', 'I', "can't", '!']);
    assert.deepEqual(tokenizeSlotText("I can't  SING!", vocab, '<unk>', 8, 'transcript'), [
      { id: 1, token: 'I', text: 'I' },
      { id: 2, token: "can't", text: "can't" },
      { id: 0, token: '<unk>', text: 'SING' },
      { id: 3, token: '!', text: '!' },
    ]);
    assert.equal(tokenizeSlotText("I can't sing", vocab, '<unk>', 2, 'transcript').length, 2);
    assert.deepEqual(tokenizeSlotText('x', vocab, '<unk>', 0, 'transcript'), []);
  });

  it('refuses an unknown slot word without unk, and an unknown template word', () => {
    const vocab = vocabularyOf(['I']);
    assert.throws(
      () => tokenizeSlotText('I sing', vocab, null, 8, 'transcript'),
      (e: unknown) => e instanceof ContractError && /"sing".*no unk/.test(e.message),
    );
    assert.throws(
      () => tokenizeTemplateText('I sing', vocab, 'mosear.prompt.template.prompt[0].text'),
      (e: unknown) =>
        e instanceof ContractError &&
        /template\.prompt\[0\]\.text: the word "sing" is not in mosear\.prompt\.vocab/.test(
          e.message,
        ),
    );
  });
});
