// Where the Node tests find what Keras computed: the fixtures that the Python tests write into build/js-fixtures/
// (`make js-fixtures`; `make test` writes them before it runs `npm test`). Run as a script (npm's pretest), it
// fails in one line when one is missing.

import { existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const FOLDER = join(ROOT, "build", "js-fixtures");

/** The explorer's settings as Keras's layers compute them (tests/test_explorer.py). */
export const CONV_FIXTURE = join(FOLDER, "keras-conv-arithmetic.json");
/** Every layer's output of the published convnet (tests/test_playground.py); $PLAYGROUND_FIXTURE names another. */
export const PLAYGROUND_FIXTURE = process.env.PLAYGROUND_FIXTURE || join(FOLDER, "playground", "fixture.json");
/** The arithmetic of units of every layer (tests/test_unit_arithmetic.py); $ARITHMETIC_FIXTURE names another. */
export const ARITHMETIC_FIXTURE = process.env.ARITHMETIC_FIXTURE || join(FOLDER, "arithmetic", "fixture.json");

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const missing = [CONV_FIXTURE, PLAYGROUND_FIXTURE, ARITHMETIC_FIXTURE].filter((path) => !existsSync(path))
    .map((path) => relative(ROOT, path));
  if (missing.length) {
    console.error(`npm test: no Keras fixture ${missing.join(", ")}: run \`make js-fixtures\` to write them`);
    process.exit(1);
  }
}
