// The python tier: flake8 over models/ (product, research, tests), then pytest on the product
// Python (models/tests: state-dict recovery and re-export, goldens, decode spec, metadata).
// Debian's python3-torch, python3-onnx, python3-numpy, python3-pytest and flake8 (/usr/bin/python3,
// or MOSEAR_PYTHON). Usage: node scripts/pythonTests.mjs [counts-file]; the counts file gets
// `# pass N` / `# fail N` (flake8 counts as one test). Exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const models = join(import.meta.dirname, '..', 'models');
const python = process.env.MOSEAR_PYTHON ?? '/usr/bin/python3';
const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', PYTHONDONTWRITEBYTECODE: '1' };

/** Runs python with inherited output; true when it exits 0. */
function py(args) {
  const result = spawnSync(python, args, { cwd: models, stdio: 'inherit', env });
  if (result.error) console.error(`${python}: ${result.error.message}`);
  return result.status === 0;
}

/** Test counts from pytest's JUnit XML (zeros when it was not written). */
function junitCounts(xml) {
  const attr = (name) =>
    [...xml.matchAll(new RegExp(`<testsuite\\b[^>]*\\b${name}="(\\d+)"`, 'g'))].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
  const failed = attr('failures') + attr('errors');
  return { pass: attr('tests') - failed - attr('skipped'), fail: failed, skipped: attr('skipped') };
}

const scratch = mkdtempSync(join(tmpdir(), 'mosear-python-'));
const junit = join(scratch, 'pytest.xml');
console.log('flake8 (models/setup.cfg)');
const lintOk = py(['-m', 'flake8']);
const testOk = py(['-m', 'pytest', '-q', '-p', 'no:cacheprovider', `--junitxml=${junit}`, 'tests']);
let counts = { pass: 0, fail: 0, skipped: 0 };
try {
  counts = junitCounts(readFileSync(junit, 'utf8'));
} catch {
  // pytest did not start (missing python3-pytest or a collection error): counted below.
}
rmSync(scratch, { recursive: true, force: true });
const pass = counts.pass + (lintOk ? 1 : 0);
const fail = counts.fail + (lintOk ? 0 : 1) + (!testOk && counts.fail === 0 ? 1 : 0);
const summary = `# pass ${pass}\n# fail ${fail}\n# skip ${counts.skipped}\n`;
process.stdout.write(summary);
if (process.argv[2]) writeFileSync(process.argv[2], summary);
process.exit(lintOk && testOk ? 0 : 1);
