// Types for `@agnai/sentencepiece-js` 1.1.1, which ships none: SentencePiece compiled to wasm (the
// wasm inlined as base64 in dist/index.js, so a bundle needs no extra file). Only what we use.
declare module '@agnai/sentencepiece-js' {
  /** An embind object; `delete` frees its wasm memory. */
  interface Deletable {
    delete(): void;
  }
  interface EmbindStringView extends Deletable {
    getView(): Deletable;
  }
  interface EmbindProcessor {
    status(): Deletable & { ToString(): string };
    PieceToId(view: Deletable): number;
  }
  export class SentencePieceProcessor {
    /** Reads the model file by path (fs.readFileSync) into a fresh wasm instance. */
    load(path: string): Promise<void>;
    encodeIds(text: string): number[];
    encodePieces(text: string): string[];
    decodeIds(ids: number[]): string;
    processor: EmbindProcessor;
    sentencepiece: { StringView: new (text: string) => EmbindStringView };
  }
}
