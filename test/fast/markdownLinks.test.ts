// Every relative link in the repository's Markdown (the files git tracks) points at a file or
// folder that exists, and every `#anchor` matches a heading of its target, slugged as GitHub does.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/golden';

/** One link found in a Markdown file. */
interface MarkdownLink {
  line: number;
  target: string;
}

/** Folders that hold build output, dependencies or scratch files, never the project's Markdown. */
const SKIPPED_FOLDERS = new Set([
  '.git',
  'node_modules',
  'dist',
  'dist-test',
  'out',
  '.vscode-test',
  '.tmp',
  'test-results',
]);

/** The Markdown files git tracks (every `*.md` outside build folders when git is unavailable). */
function markdownFiles(root: string): string[] {
  try {
    const listed = execFileSync('git', ['ls-files', '-z', '--', '*.md'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return listed
      .split('\0')
      .filter((path) => path !== '' && existsSync(join(root, path)))
      .sort();
  } catch {
    const found: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory() && !SKIPPED_FOLDERS.has(entry.name)) walk(join(dir, entry.name));
        else if (entry.isFile() && entry.name.endsWith('.md'))
          found.push(relative(root, join(dir, entry.name)).split(sep).join('/'));
      }
    };
    walk(root);
    return found.sort();
  }
}

/** The lines of a Markdown file outside fenced code blocks, with inline code spans blanked. */
function proseLines(markdown: string): { line: number; text: string }[] {
  const result: { line: number; text: string }[] = [];
  let fence: string | undefined;
  markdown.split(/\r?\n/).forEach((text, index) => {
    const opening = /^ {0,3}(`{3,}|~{3,})/.exec(text);
    if (fence !== undefined) {
      if (opening && opening[1]!.startsWith(fence) && text.trim() === opening[1]) fence = undefined;
      return;
    }
    if (opening) {
      fence = opening[1];
      return;
    }
    result.push({ line: index + 1, text: text.replace(/(`+)(?:(?!\1).)+?\1/g, '') });
  });
  return result;
}

/** Inline links and images, reference definitions and HTML href/src attributes. */
function linksOf(markdown: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  const inline =
    /\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g;
  const definition = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/;
  const attribute = /\b(?:href|src)\s*=\s*"([^"]*)"/g;
  for (const { line, text } of proseLines(markdown)) {
    for (const match of text.matchAll(inline)) links.push({ line, target: match[1]! });
    const defined = definition.exec(text);
    if (defined) links.push({ line, target: defined[1]! });
    for (const match of text.matchAll(attribute)) links.push({ line, target: match[1]! });
  }
  return links.map(({ line, target }) => ({ line, target: target.replace(/^<|>$/g, '') }));
}

/** A heading's anchor as GitHub makes it: rendered text, lower case, punctuation gone, spaces → '-'. */
function slugOf(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/`/g, '')
    .replace(/\*/g, '')
    .replace(/(^|[^\p{L}\p{N}])_+|_+(?=[^\p{L}\p{N}]|$)/gu, '$1');
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a Markdown file offers: heading slugs (repeats get -1, -2, …) and HTML ids. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const { text } of proseLines(markdown)) {
    const heading = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(text);
    if (heading) {
      const base = slugOf((heading[1] ?? '').trim());
      let slug = base;
      for (let n = 1; anchors.has(slug); n++) slug = `${base}-${n}`;
      anchors.add(slug);
    }
    for (const match of text.matchAll(/\b(?:id|name)\s*=\s*"([^"]+)"/g)) anchors.add(match[1]!);
  }
  return anchors;
}

/** What is wrong with one link of `file` (a path relative to `root`), or undefined when it resolves. */
function linkProblem(root: string, file: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) return undefined;
  const hash = target.indexOf('#');
  const pathPart = decodeURI(hash < 0 ? target : target.slice(0, hash));
  const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const resolved =
    pathPart === ''
      ? join(root, file)
      : pathPart.startsWith('/')
        ? join(root, pathPart)
        : resolve(root, dirname(file), pathPart);
  const inside = relative(root, resolved);
  if (inside.startsWith('..') || isAbsolute(inside)) return 'points outside the repository';
  if (!existsSync(resolved)) return `no file or folder ${inside.split(sep).join('/')}`;
  if (anchor === undefined || anchor === '' || !resolved.endsWith('.md')) return undefined;
  if (!anchorsOf(readFileSync(resolved, 'utf8')).has(anchor)) {
    return `no heading #${anchor} in ${inside.split(sep).join('/')}`;
  }
  return undefined;
}

describe('Markdown links', () => {
  it('slugs headings as GitHub does', () => {
    assert.equal(slugOf('Using the extension'), 'using-the-extension');
    assert.equal(slugOf('The `mosear-lens` command line'), 'the-mosear-lens-command-line');
    assert.equal(
      slugOf('Decoding clips: system ffmpeg or the bundled ffmpeg.wasm'),
      'decoding-clips-system-ffmpeg-or-the-bundled-ffmpegwasm',
    );
    assert.equal(slugOf('Boundaries and their schemas'), 'boundaries-and-their-schemas');
    assert.equal(slugOf('`src/protocol` — the leaf'), 'srcprotocol--the-leaf');
    assert.equal(slugOf('snake_case and _emphasis_'), 'snake_case-and-emphasis');
    assert.deepEqual(
      [...anchorsOf('# A\n## A\n```\n# not a heading\n```\n### A')],
      ['a', 'a-1', 'a-2'],
    );
  });

  it('finds links outside code and skips code', () => {
    const text = [
      'See [one](a.md#x) and ![img](media/i.png "title"), `[no](code.md)`.',
      '```',
      '[fenced](nowhere.md)',
      '```',
      '[ref]: docs/dev/',
      '<a href="b.md">b</a> [out](https://example.com)',
    ].join('\n');
    assert.deepEqual(
      linksOf(text).map((l) => `${l.line}:${l.target}`),
      ['1:a.md#x', '1:media/i.png', '5:docs/dev/', '6:https://example.com', '6:b.md'],
    );
  });

  it('reports a missing file, a missing heading and a path outside the repository', () => {
    assert.equal(linkProblem(REPO_ROOT, 'README.md', 'ARCHITECTURE.md'), undefined);
    assert.equal(linkProblem(REPO_ROOT, 'README.md', '#using-the-extension'), undefined);
    assert.match(linkProblem(REPO_ROOT, 'README.md', 'NOT-HERE.md') ?? '', /no file or folder/);
    assert.match(linkProblem(REPO_ROOT, 'README.md', '#no-such-heading') ?? '', /no heading/);
    assert.match(linkProblem(REPO_ROOT, 'README.md', '../elsewhere.md') ?? '', /outside/);
  });

  it('every relative link in the tracked Markdown files resolves', () => {
    const files = markdownFiles(REPO_ROOT);
    assert.ok(files.includes('README.md') && files.includes('ARCHITECTURE.md'), files.join(', '));
    const broken: string[] = [];
    for (const file of files) {
      for (const { line, target } of linksOf(readFileSync(join(REPO_ROOT, file), 'utf8'))) {
        const problem = linkProblem(REPO_ROOT, file, target);
        if (problem !== undefined) broken.push(`${file}:${line}: (${target}) ${problem}`);
      }
    }
    assert.deepEqual(broken, []);
  });
});
