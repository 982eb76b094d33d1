// SentencePiece pieces back to text (src/core/tokenizer/pieceText.ts): the expected strings are
// python3-sentencepiece's `decode` of the same ids on the committed miniature's tokenizer.model
// (models/fixtures/realexport/emotion-llama-mini.tokenizer.model).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeIds, decodePieces } from '../../src/core/tokenizer/pieceText';

describe('decodePieces', () => {
  test('▁ is a space, the first piece loses its dummy prefix, byte pieces join as UTF-8', () => {
    const pieces = ['▁Ça', '▁va', '?', '▁très', '▁', 'f', '<0xC3>', '<0xA2>', 'ch', '<0xC3>'];
    assert.equal(
      decodePieces([...pieces, '<0xA9>', '▁', '<0xE2>', '<0x80>', '<0x94>', '▁我', '很']),
      'Ça va? très fâché — 我很',
    );
  });

  test('an invalid byte is U+FFFD; control pieces write nothing, unk writes ⁇', () => {
    assert.equal(decodePieces(['<0xFE>', '▁that', 'fea', '<0x79>']), '\uFFFD thatfeay');
    assert.equal(decodePieces(['<s>', '</s>', '<unk>', '▁ha']), ' ⁇  ha');
  });

  test('whitespace is kept after the first dummy prefix', () => {
    const pieces = ['▁', '▁', '▁t', 'w', 'o', '▁', '▁s', 'p', 'a', 'c', 'es'];
    assert.equal(decodePieces(pieces), '  two  spaces');
  });

  test('decodeIds maps ids through the piece list, unknown ids as <unk>', () => {
    assert.equal(decodeIds(['<unk>', '<s>', '</s>', '▁hi', 'there'], [3, 4, 9]), 'hithere ⁇ ');
  });
});
