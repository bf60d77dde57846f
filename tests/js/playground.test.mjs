// The playground page's own arithmetic: where each feature map sits on its canvas, which unit a click lands
// on, and the sentences it shows. (The network's numbers are checked in convnet.test.mjs.)

import assert from "node:assert/strict";
import { test } from "node:test";

import { describeUnit, layerTitle, mapLayout, unitAt, verdict } from "../../docs/javascripts/playground.mjs";

test("feature maps are laid out in rows of columns, one pixel apart", () => {
  assert.deepEqual(mapLayout([26, 26, 32]), { h: 26, w: 26, c: 32, columns: 8, rows: 4, width: 215, height: 107 });
  assert.deepEqual(mapLayout([3, 3, 128]), { h: 3, w: 3, c: 128, columns: 16, rows: 8, width: 63, height: 31 });
});

test("a click finds its map and unit, and a click between maps finds none", () => {
  const layout = mapLayout([11, 11, 64]);
  assert.deepEqual(unitAt(layout, 0, 0), { channel: 0, row: 0, column: 0 });
  assert.deepEqual(unitAt(layout, 12 + 3.5, 12 * 2 + 10.9), { channel: 2 * 16 + 1, row: 10, column: 3 });
  assert.equal(unitAt(layout, 11, 4), null); // the gap after the first map
  assert.equal(unitAt(layout, 4, 12 * 4), null); // below the last row of maps
  assert.equal(unitAt(layout, -1, 0), null);
});

test("the verdict names the likeliest class, or the two it hesitates between", () => {
  const sure = [0.01, 0.9, 0.09, 0, 0, 0, 0, 0, 0, 0];
  assert.equal(verdict(sure), "The network reads a 1 (90.0%).");
  const unsure = [0, 0, 0, 0, 0.41, 0, 0, 0, 0.2, 0.39];
  assert.equal(verdict(unsure), "The network is unsure: a 4 (41.0%) or a 9 (39.0%).");
  assert.equal(verdict([0, 0, 0, 0, 0, 0, 0, 0, 1, 0]), "The network reads an 8 (100.0%).");
});

test("layers and units are described in words", () => {
  const conv = { type: "Conv2D", kernel_size: [3, 3], filters: 64, activation: "relu" };
  assert.equal(layerTitle(conv, 2), "Conv2D 2: 64 filters of 3×3, ReLU");
  assert.equal(layerTitle({ type: "MaxPooling2D", pool_size: [2, 2], strides: [2, 2] }, 1), "MaxPooling2D 1: 2×2 windows, stride 2");
  const text = describeUnit("Conv2D 2: 64 filters of 3×3, ReLU", { channel: 4, row: 3, column: 9 }, 1.234, { top: 6, left: 18, size: 8 }, 64);
  assert.equal(text, "Conv2D 2, map 5 of 64, unit (row 3, column 9) = 1.23. It sees input rows 6 to 13 and columns 18 to 25 " +
    "(8×8 pixels), marked on the network’s input.");
});
