// JSON where it enters from a file (issue 13, items 4 and 8): nesting depth, size and finite
// numbers bounded before the value is walked, a UTF-8 BOM accepted, the file named in errors;
// the result reader's value constraints (prediction index, thumbnails); the token layout's grid
// against mosear.frames.count; the size check `show` makes before reading a result.
import { jsonWithTokenRows } from '../../src/protocol/tokenRows';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import { JsonTextError, MAX_JSON_DEPTH, parseJsonBounded } from '../../src/protocol/boundedJson';
import {
  AnalysisResultError,
  parseAnalysisResult,
  readAnalysisResult,
} from '../../src/protocol/analysisResultReader';
import {
  COMPARISON_RESULT_KIND,
  COMPARISON_SCHEMA_VERSION,
  ComparisonResultError,
  parseComparisonResult,
} from '../../src/protocol/comparisonResult';
import { ContractError } from '../../src/core/contract/contractError';
import { parseContractMetadata } from '../../src/core/contract/metadata';
import { readResultFile } from '../../src/cli/resultFile';
import { UsageError } from '../../src/cli/exitCodes';
import { fixtureResult } from '../helpers/analysisFixture';
import { propsWith, toProps, validMetadataValues } from '../helpers/contractFixture';
import { scratchDir } from '../helpers/tempFiles';

const DEEP = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
const BOM = '\ufeff';
const PNG_URI = 'data:image/png;base64,iVBORw0KGgo=';

describe('parseJsonBounded', () => {
  const parse = (text: string, maxChars?: number) =>
    parseJsonBounded(text, { what: 'x.json', ...(maxChars === undefined ? {} : { maxChars }) });
  const fails = (text: string, pattern: RegExp, maxChars?: number) =>
    assert.throws(
      () => parse(text, maxChars),
      (e: unknown) => e instanceof JsonTextError && pattern.test(e.message),
    );

  test('parses what JSON.parse parses', () => {
    const text = JSON.stringify({ a: [1, -2.5e-7, { b: '[[[{{"\\\\' }], c: null, d: 1e308 });
    assert.deepEqual(parse(text), JSON.parse(text));
    assert.equal(parse('-0'), -0);
  });

  test('100,000 nested arrays: a clear error with the file and offset, no stack overflow', () => {
    fails(DEEP, /^x\.json: nested too deeply \(more than 64 levels .* at character 64\)$/);
    fails(`{"a":${'{"a":'.repeat(100)}1${'}'.repeat(101)}`, /nested too deeply/);
    const atLimit = `${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`;
    assert.doesNotThrow(() => parse(atLimit));
  });

  test('brackets inside strings (escaped quotes included) do not count', () => {
    const text = JSON.stringify({ s: `\\"${'['.repeat(1000)}`, t: '"[[' });
    assert.deepEqual(parse(text), JSON.parse(text));
  });

  test('a number that overflows to Infinity is refused; large finite ones are not', () => {
    fails('{"a": 1e999}', /x\.json: invalid: the number 1e999 at character 6 is out of range/);
    fails('[-1E+400]', /the number -1E\+400 at character 1 is out of range/);
    fails(`[${'9'.repeat(400)}]`, /the number 9{21}\.\.\. at character 1 is out of range/);
    assert.deepEqual(parse(`[1e-999, 1.7e308, ${'9'.repeat(300)}]`), [0, 1.7e308, 1e300]);
  });

  test('a leading UTF-8 BOM is accepted; size is bounded', () => {
    assert.deepEqual(parse(`${BOM}{"a":1}`), { a: 1 });
    fails('[1, 2, 3]', /x\.json: too large \(9 characters; at most 8 are read\)/, 8);
    fails('{', /x\.json: not valid JSON/);
  });
});

describe('the result readers at the file boundary', () => {
  const result = fixtureResult();
  const text = jsonWithTokenRows(result);
  const rejectsText = (json: string, pattern: RegExp) =>
    assert.throws(
      () => parseAnalysisResult(json, 'shared.mosear.json'),
      (e: unknown) => e instanceof AnalysisResultError && pattern.test(e.message),
    );
  const edited = (edit: (r: AnalysisResult) => void): string => {
    const copy = JSON.parse(text) as AnalysisResult;
    edit(copy);
    return JSON.stringify(copy);
  };

  test('a BOM is accepted', () => {
    assert.deepEqual(parseAnalysisResult(`${BOM}${text}`), result);
  });

  test('parse and validation errors name the file', () => {
    rejectsText('{', /^shared\.mosear\.json: Not a MoSEAR Lens result: the file is not valid JSON/);
    rejectsText(
      edited((r) => delete (r as Partial<AnalysisResult>).timings),
      /^shared\.mosear\.json: Not a valid MoSEAR Lens result: result\.timings is missing/,
    );
    rejectsText('[]', /^shared\.mosear\.json: Not a MoSEAR Lens result: the file does not hold/);
  });

  test('deep nesting anywhere is a clear error', () => {
    rejectsText(DEEP, /^shared\.mosear\.json: .* nested too deeply/);
    rejectsText(text.replace('"createdAt":', `"createdAt":${DEEP},"x":`), /nested too deeply/);
  });

  test('numbers must be finite (1e999 is Infinity after JSON.parse)', () => {
    const withInfinity = text.replace(/"sizeBytes":\d+/, '"sizeBytes":1e999');
    assert.notEqual(withInfinity, text);
    rejectsText(withInfinity, /the number 1e999 .* is out of range/);
    // A value that got past the text (a reader given a parsed value) is refused by the schema.
    const value = JSON.parse(text) as AnalysisResult;
    value.clip.durationSeconds = Infinity;
    assert.throws(() => readAnalysisResult(value), /result\.clip\.durationSeconds/);
    value.clip.durationSeconds = 1;
    value.intervention.logits[0] = -Infinity;
    assert.throws(() => readAnalysisResult(value), /intervention\.logits\[0\] must be a finite/);
  });

  test('prediction.index must be an integer index into the labels', () => {
    const labels = result.model.metadata.labels.length;
    rejectsText(
      edited((r) => (r.intervention.prediction.index = 1.5)),
      /result\.intervention\.prediction\.index must be an integer ≥ 0/,
    );
    rejectsText(
      edited((r) => (r.baseline.prediction.index = -1)),
      /result\.baseline\.prediction\.index must be an integer ≥ 0/,
    );
    rejectsText(
      edited((r) => (r.baseline.prediction.index = labels)),
      new RegExp(`result\\.baseline\\.prediction\\.index must be an index < ${labels}`),
    );
  });

  test('thumbnails must be embedded PNG or JPEG data, never a link', () => {
    const thumb = (dataUri: string) =>
      edited((r) => {
        r.thumbnails = [{ frame: 0, timeSeconds: 0, width: 2, height: 2, dataUri }];
      });
    assert.doesNotThrow(() => parseAnalysisResult(thumb(PNG_URI)));
    assert.doesNotThrow(() => parseAnalysisResult(thumb('data:image/jpeg;base64,/9j/4A==')));
    for (const bad of [
      'file:///etc/passwd',
      'https://example.com/x.png',
      'data:text/html;base64,PHNjcmlwdD4=',
      'data:image/svg+xml;base64,PHN2Zz4=',
      `${PNG_URI}"onerror="alert(1)`,
      'data:image/png,raw',
    ]) {
      rejectsText(thumb(bad), /result\.thumbnails\[0\]\.dataUri must be a data:image\/png/);
    }
  });

  test('a comparison: BOM accepted, errors name the file, depth bounded', () => {
    const comparison = {
      kind: COMPARISON_RESULT_KIND,
      schemaVersion: COMPARISON_SCHEMA_VERSION,
      createdAt: '2025-01-01T00:00:00.000Z',
      comparing: 'settings',
      clip: { path: result.clip.path, name: result.clip.name },
      subjects: {
        a: { label: 'A', modelPath: 'm.onnx', controls: result.settings.controls, result },
        b: { label: 'B', modelPath: 'm.onnx', controls: result.settings.controls, result },
      },
      timings: { clipDecodes: 1, totalMs: 5 },
    };
    const json = jsonWithTokenRows(comparison);
    assert.equal(parseComparisonResult(`${BOM}${json}`).comparing, 'settings');
    const fails = (t: string, pattern: RegExp) =>
      assert.throws(
        () => parseComparisonResult(t, 'c.json'),
        (e: unknown) => e instanceof ComparisonResultError && pattern.test(e.message),
      );
    fails(DEEP, /^c\.json: Not a MoSEAR Lens comparison: the file is nested too deeply/);
    fails(
      json.replace('"clipDecodes":1', '"clipDecodes":"one"'),
      /^c\.json: Not a valid MoSEAR Lens comparison: timings\.clipDecodes/,
    );
  });
});

describe('model metadata JSON', () => {
  const rejects = (props: Map<string, string>, pattern: RegExp) =>
    assert.throws(
      () => parseContractMetadata(props),
      (e: unknown) => e instanceof ContractError && pattern.test(e.message),
    );

  test('a deeply nested value is a contract error naming the key', () => {
    const props = toProps(validMetadataValues());
    props.set('mosear.labels', DEEP);
    rejects(props, /^mosear\.labels: nested too deeply \(more than 64 levels/);
    props.set('mosear.labels', '["a", 1e999]');
    rejects(props, /^mosear\.labels: invalid: the number 1e999/);
  });

  test('a grid whose frames differ from mosear.frames.count is refused', () => {
    // 2 frames × 4 × 8 patches = 64 cells, as the segment's count says; the decoder gives 4.
    const props = propsWith('mosear.token_layout', (layout) => {
      const segments = layout['segments'] as { grid?: Record<string, unknown> }[];
      segments[0]!.grid = { frames: 2, rows: 4, cols: 8, order: 'frame,row,col' };
    });
    rejects(
      props,
      /^mosear\.token_layout\.segments\[0\]\.grid\.frames: expected 4 \(mosear\.frames\.count: contract v1 maps grid frame f to decoded frame f\), found 2$/,
    );
  });
});

describe('readResultFile (show)', () => {
  const dir = scratchDir('result-text');
  const path = join(dir, 'big.mosear.json');
  writeFileSync(path, 'x'.repeat(2048));

  test('a file over the limit is refused before it is read, with its size', async () => {
    await assert.rejects(
      readResultFile(path, 1024),
      (e: unknown) =>
        e instanceof AnalysisResultError &&
        /big\.mosear\.json: the file is 2048 bytes; results over 1024 bytes are not read/.test(
          e.message,
        ),
    );
    assert.equal((await readResultFile(path, 4096)).length, 2048);
  });

  test('a missing file is a usage error naming it', async () => {
    await assert.rejects(readResultFile(join(dir, 'none.json'), 1024), UsageError);
  });
});
