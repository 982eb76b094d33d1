// Contract 1.1's word-level tokenizer (CONTRACT.md §3.1): a text is split into words by one
// regular expression; a word's id is its index in `mosear.prompt.vocab`. Template words must be
// in the vocabulary; a slot word that is not gets the `unk` entry's id. Pure.
import { ContractError } from './contractError';

/**
 * §3.1 rule 1: a run of ASCII letters and digits with inner apostrophes is one word; any other
 * character except the six whitespace characters is a word by itself. By code point (`u`).
 */
const WORD = /[A-Za-z0-9]+(?:'[A-Za-z0-9]+)*|[^ \t\n\r\f\vA-Za-z0-9]/gu;

/** The words of a text, in order (case kept). */
export function splitWords(text: string): string[] {
  return text.match(WORD) ?? [];
}

/** A vocabulary with its id lookup (the first entry wins for a repeated word). */
export interface Vocabulary {
  readonly words: readonly string[];
  readonly ids: ReadonlyMap<string, number>;
}

/** Indexes a vocabulary: id = index. */
export function vocabularyOf(words: readonly string[]): Vocabulary {
  const ids = new Map<string, number>();
  words.forEach((word, id) => {
    if (!ids.has(word)) ids.set(word, id);
  });
  return { words, ids };
}

/** One word of a tokenized text: the id fed, the entry the model saw, the word as written. */
export interface WordToken {
  id: number;
  token: string;
  text: string;
}

/**
 * A template text's tokens; every word must be in the vocabulary (else the model is rejected,
 * naming `path`).
 */
export function tokenizeTemplateText(text: string, vocab: Vocabulary, path: string): WordToken[] {
  return splitWords(text).map((word) => {
    const id = vocab.ids.get(word);
    if (id === undefined) {
      throw new ContractError(`${path}: the word "${word}" is not in mosear.prompt.vocab`);
    }
    return { id, token: word, text: word };
  });
}

/**
 * A slot value's tokens, cut to `maxTokens`: a word not in the vocabulary gets `unk`'s id (the
 * entry the model saw is then `unk`); without `unk` an unknown word is refused.
 */
export function tokenizeSlotText(
  text: string,
  vocab: Vocabulary,
  unk: string | null,
  maxTokens: number,
  slot: string,
): WordToken[] {
  const unkId = unk === null ? undefined : vocab.ids.get(unk);
  return splitWords(text)
    .slice(0, maxTokens)
    .map((word) => {
      const id = vocab.ids.get(word);
      if (id !== undefined) return { id, token: word, text: word };
      if (unk === null || unkId === undefined) {
        throw new ContractError(
          `slot "${slot}": the word "${word}" is not in the vocabulary and the tokenizer has no unk entry`,
        );
      }
      return { id: unkId, token: unk, text: word };
    });
}
