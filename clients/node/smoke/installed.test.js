// What only the installed packages can show: no checkout, no cargo, no TRUIDENTIDAD_MOCK_BIN.
// CI (.ci/run, scripts/package_smoke.sh) runs it, with the README's test (readme.test.js), in
// a scratch project where the only truidentidad-mock is the one npm installed from the
// platform package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { findBinary, PLATFORM_PACKAGE, VERSION } from 'truidentidad-mock';

test('the binary is the one the platform package brought', () => {
  assert.equal(process.env.TRUIDENTIDAD_MOCK_BIN, undefined);
  assert.ok(findBinary().endsWith(`node_modules/${PLATFORM_PACKAGE}/bin/truidentidad-mock`), findBinary());
});

test('the binary is this package\'s version', () => {
  const printed = execFileSync(findBinary(), ['--version'], { encoding: 'utf8' });
  assert.ok(printed.startsWith(`truidentidad-mock ${VERSION} (commit `), printed);
});
