import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MarkerError,
  diffLines,
  diffSummary,
  findMarkedSection,
  replaceMarkedSection,
} from '../../src/core/reports/markedSection';

const B = '<!-- BEGIN gen -->';
const E = '<!-- END gen -->';

describe('marked sections', () => {
  it('replaces only the text between the markers', () => {
    const text = `# Title\n\nhand-written\n${B}\nold 1\nold 2\n${E}\n\n## Attempts\nkept\n`;
    const next = replaceMarkedSection(text, B, E, 'new\n');
    assert.equal(next, `# Title\n\nhand-written\n${B}\nnew\n${E}\n\n## Attempts\nkept\n`);
    assert.equal(findMarkedSection(next, B, E)?.inner, 'new\n');
    assert.equal(replaceMarkedSection(next, B, E, 'new\n'), next, 'idempotent');
  });

  it('handles an empty section and appends one to a file without markers', () => {
    assert.equal(findMarkedSection(`${B}\n${E}\n`, B, E)?.inner, '');
    assert.equal(replaceMarkedSection('# T\nbody', B, E, 'x\n'), `# T\nbody\n\n${B}\nx\n${E}\n`);
    assert.equal(replaceMarkedSection('', B, E, 'x\n'), `${B}\nx\n${E}\n`);
    assert.equal(findMarkedSection('no markers', B, E), undefined);
  });

  it('ignores a marker quoted inside a line', () => {
    const text = `see \`${B}\` below\n${B}\nin\n${E}\n`;
    assert.equal(findMarkedSection(text, B, E)?.inner, 'in\n');
  });

  it('rejects a lone, repeated or reversed marker', () => {
    assert.throws(() => findMarkedSection(`${B}\nx\n`, B, E), MarkerError);
    assert.throws(() => findMarkedSection(`${B}\n${B}\n${E}\n`, B, E), MarkerError);
    assert.throws(() => findMarkedSection(`${E}\nx\n${B}\n`, B, E), MarkerError);
  });
});

describe('line diffs', () => {
  it('finds changed, removed and added lines', () => {
    const diff = diffLines('a\nb\nc\nd', 'a\nB\nc\nd\ne');
    assert.deepEqual(
      diff.map((d) => `${d.op}${d.text}`),
      [' a', '-b', '+B', ' c', ' d', '+e'],
    );
  });

  it('summarises with context and file line numbers, and is empty for equal texts', () => {
    const summary = diffSummary('a\nb\nc\nd\ne\n', 'a\nb\nX\nd\ne\n', { lineOffset: 10 });
    assert.equal(
      summary,
      [
        '1 line(s) removed, 1 line(s) added (- committed, + regenerated):',
        '    12 | b',
        '-   13 | c',
        '+   13 | X',
        '    14 | d',
      ].join('\n'),
    );
    assert.equal(diffSummary('same\n', 'same\n'), '');
  });

  it('falls back to one block for very large inputs', () => {
    const diff = diffLines('a\nb\nc', 'x\ny\nz', 1);
    assert.deepEqual(
      diff.map((d) => d.op),
      ['-', '-', '-', '+', '+', '+'],
    );
  });
});
