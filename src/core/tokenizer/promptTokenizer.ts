// A model's prompt tokenizer, loaded once: for a contract-1.1 `sentencepiece` model, its
// `tokenizer.model` next to the .onnx (SHA-256 checked) with the template's defaults checked
// against `mosear.prompt.default_ids`; other models need none. The wasm library (760 KB of
// JavaScript) is required only here, inside the function, so a host that never opens such a
// model never evaluates it.
import type { ContractMetadata } from '../../protocol/contract';
import { checkTemplateDefaults } from '../contract/runLayout';
import type { PieceEncoder } from '../contract/sentencePieceTemplate';

/** The tokenizer a run of this model needs (undefined: the metadata's vocabulary suffices). */
export async function loadPromptTokenizer(
  onnxPath: string,
  meta: ContractMetadata,
): Promise<PieceEncoder | undefined> {
  const spec = meta.prompt.tokenizer;
  if (spec?.kind !== 'sentencepiece') return undefined;
  const { SentencePieceTokenizer } = await import('./sentencePiece');
  const tokenizer = await SentencePieceTokenizer.forModel(onnxPath, {
    path: spec.file,
    sha256: spec.sha256,
  });
  checkTemplateDefaults(meta, tokenizer);
  return tokenizer;
}
