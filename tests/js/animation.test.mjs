// The animation player's pure functions, on the frame data that `make figures` writes to snaps/.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  arithmetic, CELL, cellBox, clampStep, describe, formatValue, summary, windowSpan, windowTaps,
} from "../../docs/javascripts/animation.mjs";

const load = (name) => JSON.parse(readFileSync(new URL(`../../snaps/${name}.json`, import.meta.url), "utf-8"));

test("stepping stays within the frames: before the first is the first, past the last is the last", () => {
  assert.equal(clampStep(-1, 9), 0);
  assert.equal(clampStep(4, 9), 4);
  assert.equal(clampStep(9, 9), 8);
});

test("values print with the file's decimals and a true minus sign", () => {
  assert.equal(formatValue(-17, 0), "−17");
  assert.equal(formatValue(0.6149, 2), "0.61");
});

test("cell (row, column) sits column cells right and row cells down", () => {
  assert.deepEqual(cellBox(2, 3), { x: 3 * CELL, y: 2 * CELL, width: CELL, height: CELL });
});

test("a dilated window's taps are d cells apart and span d(k - 1) + 1 cells", () => {
  const data = load("anim_dilation");
  assert.equal(windowSpan(data), 5);
  const frame = data.frames[4];
  const taps = windowTaps(data, frame);
  assert.equal(taps.length, 9);
  assert.deepEqual(taps[0], frame.window);
  assert.deepEqual(taps[8], [frame.window[0] + 4, frame.window[1] + 4]);
});

test("every conv frame's products add up to the value the file holds", () => {
  for (const name of ["anim_valid", "anim_same", "anim_stride_valid", "anim_stride_same", "anim_dilation"]) {
    const data = load(name);
    const weights = data.kernel.flat();
    for (const frame of data.frames) {
      const sum = windowTaps(data, frame).reduce((total, [r, c], index) => total + data.padded[r][c] * weights[index], data.bias);
      assert.equal(sum, frame.value, `${name}, cell ${frame.cell}`);
      assert.ok(arithmetic(data, frame).endsWith(`= ${formatValue(frame.value, data.decimals)}`));
    }
  }
});

test("a pooling frame's value is the largest of its window", () => {
  const data = load("anim_max_pool");
  for (const frame of data.frames) {
    const window = windowTaps(data, frame).map(([r, c]) => data.padded[r][c]);
    assert.equal(Math.max(...window), frame.value);
  }
});

test("the live line names the step, the window's rows and the output cell with its value", () => {
  const data = load("anim_stride_same");
  const last = data.frames.length - 1;
  const [row, column] = data.frames[last].cell;
  const line = describe(data, last);
  assert.ok(line.startsWith(`Step ${last + 1} of ${data.frames.length}: the window covers rows 4 to 6`), line);
  assert.ok(line.endsWith(`output cell (row ${row}, column ${column}) = ${formatValue(data.frames[last].value, 0)}.`), line);
  assert.match(summary(data), /adds none before the input and one row and one column of zeros after it/);
});
