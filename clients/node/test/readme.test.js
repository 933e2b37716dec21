// The README's first ```js block, run as written: it imports the package by its name, which
// Node resolves to this package (a package may import itself through its "exports"), so the
// copy must sit inside the package directory while it runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const readme = fs.readFileSync(path.join(here, '..', 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);

test('the README shows the quick start, then the Vitest config', () => {
  assert.equal(blocks.length, 2);
  assert.match(blocks[0], /import \{ startMock \} from 'truidentidad-mock';/);
  // The second is a vitest.config.js fragment; test/handle.test.js runs the recipe it names.
  assert.match(blocks[1], /globalSetup: \['truidentidad-mock\/vitest-global-setup'\]/);
});

test('the README quick start runs as written', async () => {
  const file = path.join(here, `.readme-quick-start-${process.pid}.mjs`);
  fs.writeFileSync(file, blocks[0]);
  try {
    await import(file);
  } finally {
    fs.rmSync(file, { force: true });
  }
});
