// The integration suite's entry: VS Code (desktop through @vscode/test-electron, or code-server
// through scripts/vscode/code-server-as-vscode.mjs) loads this bundle in the extension host and
// calls `run()`. Mocha is bundled; the suites register once its TDD globals exist.
import { appendFileSync } from 'node:fs';
import Mocha from 'mocha';
import { registerActivationSuite } from './activation';
import { registerAnalysisSuite } from './analysis';
import { registerCheckpointSuite } from './checkpoints';
import { registerCompareSuite } from './compare';
import { registerConflictSetSuite, registerRestrictedConflictSetSuite } from './conflictSet';
import { registerEvaluationSuite, registerRestrictedEvaluationSuite } from './evaluation';
import { registerExportCheckpointSuite } from './exportCheckpoint';
import { registerPanelProtocolSuite } from './panelProtocol';
import { registerPanelSavesSuite } from './panelSaves';
import { registerRestrictedModeSuite } from './restrictedMode';
import { registerRuntimeInfoSuite } from './runtimeInfo';
import { registerSavedResultSuite } from './savedResult';
import { registerSettingsSuite } from './settings';

const SUITE_START = '-- mosear integration suite: start --';
const SUITE_END = '-- mosear integration suite: end --';

/** Runs every suite; rejects when any test fails. */
export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 60_000, reporter: 'spec' });
  // What `mocha.addFile` + require would do: install suite()/test() for the suites below.
  mocha.suite.emit('pre-require', globalThis, 'integration', mocha);
  // A developer's filter (`MOSEAR_INTEGRATION_GREP=export npm test -- integration`); CI sets none.
  const grep = process.env['MOSEAR_INTEGRATION_GREP'];
  if (grep !== undefined && grep !== '') mocha.grep(grep);
  if (process.env['MOSEAR_INTEGRATION_RESTRICTED'] === '1') {
    registerRestrictedModeSuite();
    registerRestrictedEvaluationSuite();
    registerRestrictedConflictSetSuite();
  } else {
    registerActivationSuite();
    registerAnalysisSuite();
    registerCompareSuite();
    registerPanelProtocolSuite();
    registerPanelSavesSuite();
    registerSettingsSuite();
    registerCheckpointSuite();
    registerRuntimeInfoSuite();
    registerSavedResultSuite();
    registerEvaluationSuite();
    registerExportCheckpointSuite();
    registerConflictSetSuite();
  }
  // scripts/vscode/code-server-as-vscode.mjs prints the page's console between these lines.
  console.log(SUITE_START);
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      console.log(SUITE_END);
      // The runner sums these lines over its passes for `npm test`'s totals.
      const counts = process.env['MOSEAR_INTEGRATION_COUNTS'];
      if (counts) {
        appendFileSync(counts, `# pass ${runner.stats?.passes ?? 0}\n# fail ${failures}\n`);
      }
      if (failures > 0) reject(new Error(`${failures} integration test(s) failed`));
      else resolve();
    });
  });
}
