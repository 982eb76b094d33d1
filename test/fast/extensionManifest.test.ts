// package.json's contributions against the extension's code: ids, categories, palette hiding,
// registration, settings documentation and Restricted Mode (STYLE.md §10).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  RESTRICTED_SETTINGS,
  SETTINGS_SECTION,
  VIDEO_EXTENSIONS,
} from '../../src/extension/settings';
import { REPO_ROOT } from '../helpers/golden';

interface Command {
  command: string;
  title: string;
  category?: string;
}
interface MenuItem {
  command: string;
  when?: string;
}
interface Property {
  type?: string | string[];
  markdownDescription?: string;
  enum?: unknown[];
  enumDescriptions?: string[];
  scope?: string;
}
interface Manifest {
  main: string;
  extensionKind: string[];
  capabilities: {
    untrustedWorkspaces: { supported: string; restrictedConfigurations: string[] };
    virtualWorkspaces: { supported: boolean };
  };
  contributes: {
    commands: Command[];
    menus: Record<string, MenuItem[]>;
    customEditors: {
      viewType: string;
      priority: string;
      selector: { filenamePattern: string }[];
    }[];
    configuration: { title: string; properties: Record<string, Property> }[];
  };
}

const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as Manifest;
const source = (file: string): string =>
  readFileSync(join(REPO_ROOT, 'src', 'extension', file), 'utf8');
const commands = manifest.contributes.commands;
const properties = Object.assign(
  {},
  ...manifest.contributes.configuration.map((s) => s.properties),
) as Record<string, Property>;

describe('extension manifest', () => {
  it('names every command mosear.camelCaseVerb with the MoSEAR category', () => {
    assert.ok(commands.length >= 5);
    for (const c of commands) {
      assert.match(c.command, /^mosear\.[a-z]+[A-Za-z]*$/, c.command);
      assert.equal(c.category, 'MoSEAR', c.command);
      assert.ok(!c.title.startsWith('MoSEAR'), `${c.command}: the category already says MoSEAR`);
    }
  });

  it('registers every contributed command in commands.ts, and nothing else', () => {
    const code = source('commands.ts');
    const registered = [...code.matchAll(/'(mosear\.[A-Za-z]+)':/g)].map((m) => m[1]);
    assert.deepEqual([...registered].sort(), commands.map((c) => c.command).sort());
  });

  it('hides commands that need a resource from the palette', () => {
    const hidden = new Set(
      manifest.contributes.menus['commandPalette']
        ?.filter((m) => m.when === 'false')
        .map((m) => m.command),
    );
    assert.ok(hidden.has('mosear.useAsCheckpoint'));
    for (const [menu, items] of Object.entries(manifest.contributes.menus)) {
      for (const item of items) {
        assert.ok(
          commands.some((c) => c.command === item.command),
          `${menu}: ${item.command} is not contributed`,
        );
      }
    }
  });

  it('offers Analyze Clip on exactly the video extensions, case-insensitively', () => {
    const item = manifest.contributes.menus['explorer/context']?.find(
      (m) => m.command === 'mosear.analyzeClip',
    );
    const regex = /resourceExtname =~ \/(.+)\/i/.exec(item?.when ?? '');
    assert.ok(regex?.[1], 'an explorer/context entry with a resourceExtname regex');
    const re = new RegExp(regex[1], 'i');
    for (const ext of VIDEO_EXTENSIONS) {
      assert.ok(re.test(`.${ext}`) && re.test(`.${ext.toUpperCase()}`), ext);
    }
    assert.ok(!re.test('.mp3') && !re.test('.mp4.json'));
    const preview = manifest.contributes.menus['editor/title']?.find(
      (m) => m.command === 'mosear.analyzeClip',
    );
    assert.match(preview?.when ?? '', /activeCustomEditorId == 'vscode\.videoPreview'/);
  });

  it('declares the custom editors the code registers', () => {
    const editors = manifest.contributes.customEditors;
    const clip = editors.find((e) => e.viewType === 'mosear.clipAnalysis');
    const result = editors.find((e) => e.viewType === 'mosear.result');
    assert.equal(clip?.priority, 'option');
    assert.equal(result?.priority, 'default');
    assert.deepEqual(result.selector, [
      { filenamePattern: '*.mosear.npz' },
      { filenamePattern: '*.mosear.json' },
    ]);
    assert.match(
      source('panels/analysis/clipEditor.ts'),
      /CLIP_EDITOR_VIEW_TYPE = 'mosear\.clipAnalysis'/,
    );
    assert.match(
      source('panels/analysis/resultEditor.ts'),
      /RESULT_EDITOR_VIEW_TYPE = 'mosear\.result'/,
    );
  });

  it('documents every setting, with enum descriptions and titled sections', () => {
    for (const section of manifest.contributes.configuration) assert.ok(section.title);
    for (const [key, p] of Object.entries(properties)) {
      assert.ok(key.startsWith(`${SETTINGS_SECTION}.`), key);
      assert.ok(p.type, `${key}: type`);
      assert.ok((p.markdownDescription ?? '').length > 20, `${key}: markdownDescription`);
      if (p.enum)
        assert.equal(p.enumDescriptions?.length, p.enum.length, `${key}: enumDescriptions`);
    }
  });

  it('reads exactly the contributed settings', () => {
    const code = source('settings.ts');
    const read = new Set(
      [...code.matchAll(/(?:value|path|number|choice)\('([a-zA-Z.]+)'/g)].map((m) => m[1]),
    );
    read.add('checkpoint.extraPaths');
    read.add('runtime.executionProvider');
    assert.deepEqual(
      [...read].map((k) => `${SETTINGS_SECTION}.${k}`).sort(),
      Object.keys(properties).sort(),
    );
  });

  it('restricts the executable and model paths in untrusted workspaces', () => {
    const caps = manifest.capabilities;
    assert.equal(caps.untrustedWorkspaces.supported, 'limited');
    assert.deepEqual(
      [...caps.untrustedWorkspaces.restrictedConfigurations].sort(),
      RESTRICTED_SETTINGS.map((k) => `${SETTINGS_SECTION}.${k}`).sort(),
    );
    for (const key of caps.untrustedWorkspaces.restrictedConfigurations) {
      assert.match(properties[key]?.scope ?? '', /^machine/, `${key}: machine scope`);
    }
    assert.equal(caps.virtualWorkspaces.supported, false);
    assert.deepEqual(manifest.extensionKind, ['workspace']);
    assert.equal(manifest.main, './dist/extension.js');
  });
});
