// Entry point of the wasm decoder's child process (built to dist/decode/wasmWorker.js). It takes
// one request over IPC, reads the clip into memory, runs the spec on the ffmpeg.wasm core and
// replies once. A crash, a runaway decode or an out-of-memory costs this process only; the
// parent enforces the timeout and cancels by killing it.
import { isDecodeError } from './decodeError';
import { WasmFfmpegCore } from './wasmCore';
import { WasmClipDecode, readClip } from './wasmDecode';
import { parseWasmWorkerRequest, type WasmWorkerReply } from '../../protocol/decodeWorkerMessages';

/** Runs one request to its reply; every failure (a malformed request too) becomes a 'failed' reply. */
async function handle(raw: unknown): Promise<WasmWorkerReply> {
  try {
    let request;
    try {
      request = parseWasmWorkerRequest(raw);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return {
        kind: 'failed',
        code: 'BAD_SPEC',
        message: `The WebAssembly decoder got a malformed request (${reason}).`,
      };
    }
    const clip = readClip(request.path, request.maxFileBytes);
    const core = await WasmFfmpegCore.load(request.core);
    const decode = new WasmClipDecode(
      core,
      clip,
      request.kind === 'decode' ? request.frameDecode : undefined,
    );
    if (request.kind === 'probe') {
      const probe = await decode.probe();
      return { kind: 'probed', probe, timings: decode.timings };
    }
    const decoded = await decode.decode(request.spec);
    return { kind: 'decoded', clip: decoded, timings: decode.timings };
  } catch (error) {
    if (isDecodeError(error)) {
      return {
        kind: 'failed',
        code: error.code,
        message: error.message,
        ...(error.stderrTail === undefined ? {} : { stderrTail: error.stderrTail }),
      };
    }
    return {
      kind: 'failed',
      code: 'UNREADABLE',
      message: `The WebAssembly decoder failed: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

/** Replies, then exits once the reply is flushed. */
function reply(message: WasmWorkerReply): void {
  process.send?.(message, undefined, undefined, () => process.exit(0));
}

if (process.send === undefined) {
  process.stderr.write('wasmWorker: start this file with child_process.fork (it needs IPC).\n');
  process.exit(2);
}
process.once('message', (raw: unknown) => {
  void handle(raw).then(reply);
});
// The parent going away (cancel, crash of the host) ends this process too.
process.once('disconnect', () => process.exit(0));
