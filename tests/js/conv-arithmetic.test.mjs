// The explorer's arithmetic module: its own behaviour, and every setting of the Keras fixture that
// tests/test_explorer.py writes (fixtures.mjs).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  dilatedSpan, kerasAccepts, outputSize, paddingAmounts, taps, validate, windowStart,
} from "../../docs/javascripts/conv-arithmetic.mjs";
import { CONV_FIXTURE } from "./fixtures.mjs";

test("Keras's same pads the odd row after the input: n=28, k=3, s=2 pads 0 before and 1 after", () => {
  assert.deepEqual(paddingAmounts(28, 3, 2, 1, "same"), [0, 1]);
  assert.equal(outputSize(28, 3, 2, 1, "same"), 14);
});

test("a dilated window spans d(k - 1) + 1 cells and its taps are d apart", () => {
  assert.equal(dilatedSpan(3, 2), 5);
  assert.equal(outputSize(7, 3, 1, 2, "valid"), 3);
  assert.deepEqual(taps(1, 3, 1, 2, 0), [1, 3, 5]);
});

test("windows start s apart, the padding before shifting them to negative indices", () => {
  assert.equal(windowStart(0, 2, 1), -1);
  assert.deepEqual(taps(2, 3, 2, 1, 1), [3, 4, 5]);
});

test("explicit padding adds p on both sides and then counts the windows that fit", () => {
  assert.deepEqual(paddingAmounts(6, 3, 2, 1, "explicit", 1), [1, 1]);
  assert.equal(outputSize(6, 3, 2, 1, "explicit", 1), 3);
  assert.equal(outputSize(5, 7, 1, 1, "explicit", 1), 1);
});

test("a window larger than the padded input gives no output and a message saying so", () => {
  assert.equal(outputSize(5, 7, 1, 1, "valid"), 0);
  const result = validate({ n: 5, k: 7, s: 1, d: 1, padding: "valid" });
  assert.equal(result.ok, false);
  assert.match(result.error, /window spans 7 cells, more than the 5 of the padded input/);
});

test("out-of-range, empty and non-numeric settings are refused with one clear line", () => {
  const base = { n: "5", k: "3", s: "1", d: "1", padding: "same", p: "0" };
  const cases = [
    [{ n: "40" }, /Input size n must be from 1 to 32, not 40/],
    [{ k: "abc" }, /Kernel size k must be a whole number from 1 to 7, not “abc”/],
    [{ s: "1.5" }, /Stride s must be a whole number/],
    [{ d: "" }, /Dilation d is empty/],
    [{ padding: "explicit", p: "9" }, /Padding p must be from 0 to 7, not 9/],
    [{ padding: "full" }, /Padding must be “valid”, “same” or an explicit p/],
  ];
  for (const [change, message] of cases) {
    const result = validate({ ...base, ...change });
    assert.equal(result.ok, false, JSON.stringify(change));
    assert.match(result.error, message);
    assert.doesNotMatch(result.error, /NaN|undefined/);
    assert.ok(!result.error.includes("\n"));
  }
  assert.deepEqual(validate(base), { ok: true, settings: { n: 5, k: 3, s: 1, d: 1, padding: "same", p: 0 }, before: 1, after: 1, out: 5 });
});

test("Keras's Conv2D refuses a stride above 1 together with a dilation above 1", () => {
  assert.equal(kerasAccepts(2, 2), false);
  assert.equal(kerasAccepts(1, 3), true);
  assert.equal(kerasAccepts(4, 1), true);
});

test("every setting Keras computed: output size, padding before and after", (t) => {
  const { settings } = JSON.parse(readFileSync(CONV_FIXTURE, "utf-8"));
  let checked = 0;
  for (const x of settings) {
    const where = JSON.stringify(x);
    if (x.refused) {
      assert.equal(kerasAccepts(x.s, x.d), false, where);
      continue;
    }
    assert.equal(kerasAccepts(x.s, x.d), true, where);
    assert.equal(outputSize(x.n, x.k, x.s, x.d, x.padding, x.p), x.out, where);
    if (x.before !== null) assert.deepEqual(paddingAmounts(x.n, x.k, x.s, x.d, x.padding, x.p), [x.before, x.after], where);
    const result = validate(x);
    assert.equal(result.ok, x.out > 0, where);
    if (result.ok) assert.equal(result.out, x.out, where);
    checked += 1;
  }
  assert.ok(checked > 0, `${CONV_FIXTURE} holds no setting Keras accepted`);
  t.diagnostic(`checked ${checked} Keras settings`);
});
