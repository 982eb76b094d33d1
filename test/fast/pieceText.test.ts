// SentencePiece pieces back to text (src/core/tokenizer/pieceText.ts): the expected strings are
// python3-sentencepiece's `decode` of the same ids on the committed miniature's tokenizer.model
// (models/fixtures/realexport/emotion-llama-mini.tokenizer.model). Text positions made of
// byte-fallback pieces are labelled with their decoded character.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeIds, decodePieces } from '../../src/core/tokenizer/pieceText';
import { BYTE_CONTINUATION, pieceLabels } from '../../src/core/contract/sentencePieceTemplate';

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

describe('byte-fallback position labels (pieceLabels)', () => {
  test('a character of byte pieces is shown on its first piece, the others marked', () => {
    const pieces = ['▁f', '<0xC3>', '<0xA2>', 'ch', '▁', '<0xE2>', '<0x80>', '<0x94>', '▁我'];
    assert.deepEqual(pieceLabels(pieces), [
      ' f',
      'â',
      BYTE_CONTINUATION,
      'ch',
      ' ',
      '—',
      BYTE_CONTINUATION,
      BYTE_CONTINUATION,
      ' 我',
    ]);
    // four bytes (an emoji), then two characters of byte pieces back to back
    assert.deepEqual(
      pieceLabels(['<0xF0>', '<0x9F>', '<0x98>', '<0x80>', '<0xC3>', '<0xA9>', '<0xC3>', '<0xA0>']),
      ['😀', '↳', '↳', '↳', 'é', '↳', 'à', '↳'],
    );
  });

  test('an invalid or cut-short sequence shows U+FFFD per byte', () => {
    assert.deepEqual(pieceLabels(['<0xFE>', '<0xC3>', 'x', '<0xA9>']), [
      '\uFFFD',
      '\uFFFD',
      'x',
      '\uFFFD',
    ]);
    assert.deepEqual(pieceLabels(['<0xE0>', '<0x80>', '<0x80>']), ['\uFFFD', '\uFFFD', '\uFFFD']);
  });
});
