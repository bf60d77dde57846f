// The playground page's own arithmetic: where each feature map sits on its canvas, which unit a click lands
// on, how layers are named, and the sentences it shows. (The network's numbers are checked in convnet.test.mjs
// and unit-arithmetic.test.mjs.)

import assert from "node:assert/strict";
import { test } from "node:test";

import { describeUnit, layerLabels, layerTitle, mapLayout, sourceLayer, unitAt, unreadableEnding, verdict, visibleField }
  from "../../docs/javascripts/playground.mjs";

test("feature maps are laid out in rows of columns, one pixel apart", () => {
  assert.deepEqual(mapLayout([26, 26, 32]), { h: 26, w: 26, c: 32, columns: 8, rows: 4, width: 215, height: 107 });
  assert.deepEqual(mapLayout([3, 3, 128]), { h: 3, w: 3, c: 128, columns: 16, rows: 8, width: 63, height: 31 });
});

test("any channel count gets a layout with a place for every map and no empty row", () => {
  for (let c = 1; c <= 300; c++) {
    const layout = mapLayout([7, 5, c]);
    assert.ok(layout.columns * layout.rows >= c && layout.columns * (layout.rows - 1) < c, `${c} channels`);
    assert.deepEqual(unitAt(layout, layout.width - 1 - ((layout.columns * layout.rows - c) * 6), layout.height - 1),
      { channel: c - 1, row: 6, column: 4 }, `the last map of ${c}`);
  }
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

test("layers are numbered by type only where the network has more than one of it", () => {
  const types = ["Conv2D", "MaxPooling2D", "Conv2D", "Dropout", "GlobalAveragePooling2D", "Dense"];
  assert.deepEqual(layerLabels(types.map((type) => ({ type }))),
    ["Conv2D 1", "MaxPooling2D", "Conv2D 2", "Dropout", "GlobalAveragePooling2D", "Dense"]);
});

test("layers and units are described in words", () => {
  const conv = { type: "Conv2D", kernel_size: [3, 3], strides: [1, 1], filters: 64, activation: "relu" };
  assert.equal(layerTitle(conv, "Conv2D 2"), "Conv2D 2: 64 filters of 3×3, ReLU");
  assert.equal(layerTitle({ ...conv, strides: [2, 2], padding: "same" }, "Conv2D 2"),
    "Conv2D 2: 64 filters of 3×3, stride 2, “same” padding, ReLU");
  assert.equal(layerTitle({ type: "MaxPooling2D", pool_size: [2, 2], strides: [2, 2] }, "MaxPooling2D 1"),
    "MaxPooling2D 1: 2×2 windows, stride 2");
  assert.equal(layerTitle({ type: "AveragePooling2D", pool_size: [2, 2], strides: [2, 2], padding: "same" }, "AveragePooling2D"),
    "AveragePooling2D: means of 2×2 windows, stride 2, “same” padding");
  assert.equal(layerTitle({ type: "GlobalAveragePooling2D" }, "GlobalAveragePooling2D"), "GlobalAveragePooling2D: the mean of each map");
  assert.equal(layerTitle({ type: "Dropout", rate: 0.5 }, "Dropout"),
    "Dropout: passes its input on unchanged (it drops values only during training)");
  assert.equal(layerTitle({ type: "Flatten", output_shape: [1152] }, "Flatten"), "Flatten: every map’s values in one row of 1,152");
  assert.equal(layerTitle({ type: "Dense", units: 10, activation: "softmax" }, "Dense"), "Dense: 10 units, softmax");
  const text = describeUnit("Conv2D 2: 64 filters of 3×3, ReLU", { channel: 4, row: 3, column: 9 }, 1.234, { top: 6, left: 18, size: 8 }, 64);
  assert.equal(text, "Conv2D 2, map 5 of 64, unit (row 3, column 9) = 1.23. It sees input rows 6 to 13 and columns 18 to 25 " +
    "(8×8 pixels), marked on the network’s input.");
});

test("a receptive field that hangs over the image's edge is clipped to it, and said to be", () => {
  assert.deepEqual(visibleField({ top: -1, left: 25, size: 5 }), { top: 0, left: 25, bottom: 3, right: 27 });
  assert.deepEqual(visibleField({ top: 2, left: 3, size: 4 }), { top: 2, left: 3, bottom: 5, right: 6 });
  const text = describeUnit("Conv2D 1: 16 filters of 3×3, “same” padding, ReLU", { channel: 0, row: 0, column: 0 }, 0.5,
    { top: -1, left: -1, size: 3 }, 16);
  assert.equal(text, "Conv2D 1, map 1 of 16, unit (row 0, column 0) = 0.50. It sees input rows 0 to 1 and columns 0 to 1 " +
    "(a 3×3 window, partly over the padding around the image), marked on the network’s input.");
});

test("a layer reads the output of the layer before it, past Dropout and Flatten", () => {
  const layers = ["Conv2D", "Dropout", "Conv2D", "Flatten", "Dropout", "Dense"].map((type) => ({ type }));
  assert.equal(sourceLayer(layers, 0), -1);
  assert.equal(sourceLayer(layers, 2), 0);
  assert.equal(sourceLayer(layers, 5), 2);
});

test("only a network ending in ten softmax probabilities is shown, and any other is refused in a sentence", () => {
  const ending = (last) => ({ layers: [{ type: "Flatten" }, last] });
  assert.equal(unreadableEnding(ending({ type: "Dense", units: 10, activation: "softmax" })), null);
  assert.equal(unreadableEnding(ending({ type: "Dense", units: 10, activation: "linear" })),
    "This page shows networks whose last layer is a Dense layer of 10 units with softmax, one probability per digit; " +
    "this one ends in a Dense layer of 10 units with no activation.");
  assert.match(unreadableEnding(ending({ type: "Dense", units: 7, activation: "softmax" })), /ends in a Dense layer of 7 units with softmax\.$/);
  assert.match(unreadableEnding(ending({ type: "GlobalAveragePooling2D" })), /ends in a GlobalAveragePooling2D layer\.$/);
});
