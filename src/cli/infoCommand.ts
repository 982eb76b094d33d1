// `mosear-lens info <model>`: the checkpoint's contract metadata, and which execution providers
// open a session on this machine (and why the others do not). Every value is printed through
// terminalText: a model's metadata is untrusted text.
import type { ContractMetadata } from '../protocol/contract';
import { RATIO_KIND_NAMES } from '../protocol/contract';
import type { ProviderAttempt } from '../protocol/executionProviders';
import { autoProviderChain } from '../core/inference/executionProviders';
import type { LoadedModel } from '../core/engine/analysisEngine';
import type { OnnxModelInfo } from '../core/onnx/modelProto';
import { describeControls } from './analysisReport';
import { terminalText } from './terminalText';

function layoutLine(meta: ContractMetadata): string {
  const parts = meta.tokenLayout.segments.map((s) => {
    const span = s.count === 1 ? `${s.start}` : `${s.start}–${s.start + s.count - 1}`;
    const grid = s.grid
      ? `, ${s.grid.frames} frame(s) × ${s.grid.rows}×${s.grid.cols} patches`
      : '';
    return `${s.modality} ${span} (${s.count}${grid})`;
  });
  return `${meta.tokenLayout.total}: ${parts.join(', ')}`;
}

/** The 1.1 tokenizer's kind and file; `status` says whether it loaded (sentencepiece). */
function tokenizerLine(meta: ContractMetadata, status: string | undefined): string | undefined {
  const t = meta.prompt.tokenizer;
  if (t === undefined) return undefined;
  if (t.kind === 'word-level')
    return `word-level over the vocabulary${t.ref ? ` (ref ${t.ref})` : ''}`;
  return `sentencepiece ${t.file} (sha256 ${t.sha256.slice(0, 12)}…)${status ? `: ${status}` : ''}`;
}

/** The metadata as aligned lines; `tokenizerStatus` says whether a sentencepiece tokenizer loaded. */
export function formatModelInfo(
  model: LoadedModel,
  onnx: OnnxModelInfo,
  tokenizerStatus?: string,
): string[] {
  const m = model.metadata;
  const a = m.architecture;
  const sizeMb = (model.sizeBytes / 1e6).toFixed(1);
  const opsets = onnx.opsetImports.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ');
  const sweep = RATIO_KIND_NAMES.map((k) => {
    const r = m.tauSweep[k];
    return `${k} ${r.min}…${r.max} (${r.steps} steps, ${r.scale})`;
  }).join('; ');
  const rows: [string, string][] = [
    ['model', `${m.checkpoint.name} (${model.path}, ${sizeMb} MB)`],
    [
      'contract',
      `${m.contract}; ONNX IR ${onnx.irVersion}, opsets ${opsets}, made by ${onnx.producerName} ${onnx.producerVersion}`.trim(),
    ],
    ['description', m.checkpoint.description || '—'],
    ['training data', m.checkpoint.trainingData || '—'],
    ['version', m.checkpoint.version],
    ['labels', m.labels.join(', ')],
    [
      'architecture',
      `${a.family}, ${a.layers} layers × ${a.heads} heads, d_model ${a.dModel}, adapter ${a.adapter}` +
        `${a.mose ? ` (MoSE, ε ${a.moseEps ?? '—'})` : ''}, LoRA rank ${a.loraRank}`,
    ],
    ['tokens', layoutLine(m)],
    ['answer at', m.answerPositions.join(', ')],
    [
      'frames',
      `${m.frames.count} × ${m.frames.width}×${m.frames.height} RGB${m.frames.dynamicCount ? ' (count may vary)' : ''}`,
    ],
    [
      'audio',
      `${m.audio.windowSeconds} s at ${m.audio.sampleRateHz / 1000} kHz (${m.audio.samples} samples), ` +
        `${m.audio.tokens} token(s), ${m.audio.optional ? 'optional (silence when a clip has none)' : 'required'}`,
    ],
    ['prompt', `"${m.prompt.default.join(' ')}" (ids ${m.prompt.defaultIds.join(' ')})`],
    ...((): [string, string][] => {
      const line = tokenizerLine(m, tokenizerStatus);
      return line === undefined ? [] : [['tokenizer', line]];
    })(),
    ['decode spec', m.decode.spec],
    ['AR defaults', describeControls({ ...m.arDefaults, headOverride: [] })],
    ['τ sweeps', sweep],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${terminalText(v)}`);
}

/** Provider lines: which open, why the others do not, and what `auto` tries. */
export function formatProviders(
  attempts: ProviderAttempt[],
  platform: NodeJS.Platform,
  ortVersion: string,
): string[] {
  const width = Math.max(...attempts.map((a) => a.provider.length));
  return [
    `execution providers (onnxruntime-node ${ortVersion}, ${platform}):`,
    ...attempts.map(
      (a) =>
        `  ${a.provider.padEnd(width)}  ${a.ok ? `works (session opened in ${a.ms.toFixed(0)} ms)` : `unavailable: ${a.reason ?? 'failed'}`}`,
    ),
    `  auto tries ${autoProviderChain(platform).join(' → ')}, one at a time`,
  ].map(terminalText);
}
