// The arithmetic panel's module: its own behaviour on hand-made layers, and the arithmetic of the units that the
// fixture of tests/test_unit_arithmetic.py lists (fixtures.mjs), against what Keras and NumPy computed for them.

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";

import { decodeConvnet, forward } from "../../docs/javascripts/convnet.mjs";
import { describeArithmetic, unitArithmetic } from "../../docs/javascripts/unit-arithmetic.mjs";
import { ARITHMETIC_FIXTURE } from "./fixtures.mjs";

/** A file's bytes as an ArrayBuffer of their own (Node's pooled Buffers may share one). */
function bytes(path) {
  const buffer = readFileSync(path);
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.length);
}

/** A network of hand-made layers on an (h, w, c) input, without a weights file. */
function handMade(inputShape, layers) {
  return { manifest: { layers }, inputShape, layers: layers.map((layer) => ({ params: {}, weights: [], ...layer })) };
}

/** The outputs a forward pass would give, stated by hand, for a network whose layers the test calls one at a time. */
const given = (...outputs) => outputs.map(([shape, data]) => ({ shape, data: Float32Array.from(data) }));

test("a 'same' convolution at stride 2 on an even input pads one column after it and none before, as Keras does", () => {
  // A 4×4 input holding 1..16, one 3×3 filter of ones: output 2×2, windows starting at 0 and 2, the second over
  // the padding.
  const conv = { name: "c", type: "Conv2D", filters: 1, kernel_size: [3, 3], strides: [2, 2], padding: "same",
    activation: "relu", params: { kernel: new Float32Array(9).fill(1), bias: Float32Array.of(-100) } };
  const net = handMade([4, 4, 1], [conv]);
  const input = Float32Array.from({ length: 16 }, (_, i) => i + 1);
  const outputs = given([[2, 2, 1], [0, 0, 0, 0]]);
  const result = unitArithmetic(net, input, outputs, 0, { channel: 0, row: 1, column: 1 });
  assert.equal(result.top, 2);
  assert.equal(result.left, 2);
  assert.deepEqual(result.contributions[0].patch, [11, 12, 0, 15, 16, 0, 0, 0, 0]);
  assert.equal(result.total, 54);
  assert.equal(result.pre, -46);
  assert.equal(result.value, 0);
  assert.equal(describeArithmetic(result, "Conv2D 1"),
    "Unit (row 1, column 1) of map 1 in layer Conv2D 1: sum 54.000 plus bias -100.000 gives -46.000, ReLU gives 0.000.");
});

test("a 'same' window larger than its stride pads before the input too, and its top and left are negative", () => {
  // 5×5 input, 3×3 window, stride 1: one row and column of padding on each side.
  const pool = { name: "p", type: "MaxPooling2D", pool_size: [3, 3], strides: [1, 1], padding: "same" };
  const input = Float32Array.from({ length: 25 }, (_, i) => (i === 6 ? 9 : i % 3));
  const net = handMade([5, 5, 1], [pool]);
  const result = unitArithmetic(net, input, given([[5, 5, 1], new Array(25).fill(0)]), 0, { channel: 0, row: 0, column: 0 });
  assert.deepEqual([result.top, result.left], [-1, -1]);
  assert.deepEqual(result.window, [null, null, null, null, 0, 1, null, 2, 9]);
  assert.deepEqual(result.maxAt, { row: 1, column: 1 });
  assert.equal(describeArithmetic(result, "MaxPooling2D 1"),
    "Unit (row 0, column 0) of map 1 in layer MaxPooling2D 1: the largest of 4 values, 9.000, from input row 1, column 1.");
});

test("'same' average pooling divides by the real inputs of its window only, and a global average by the whole map", () => {
  const average = { name: "a", type: "AveragePooling2D", pool_size: [2, 2], strides: [2, 2], padding: "same" };
  const global = { name: "g", type: "GlobalAveragePooling2D" };
  const net = handMade([3, 3, 2], [average, global]);
  const input = Float32Array.from({ length: 18 }, (_, i) => (i % 2 ? 10 * i : i)); // channel 1 holds ten times its index
  const outputs = given([[2, 2, 2], new Array(8).fill(0)], [[2], [0, 0]]);
  const corner = unitArithmetic(net, input, outputs, 0, { channel: 1, row: 1, column: 1 });
  assert.deepEqual(corner.window, [170, null, null, null]);
  assert.deepEqual([corner.count, corner.value], [1, 170]);
  const edge = unitArithmetic(net, input, outputs, 0, { channel: 0, row: 0, column: 1 });
  assert.deepEqual(edge.window, [4, null, 10, null]);
  assert.equal(edge.value, 7);
  assert.equal(describeArithmetic(edge, "AveragePooling2D 1"),
    "Unit (row 0, column 1) of map 1 in layer AveragePooling2D 1: the mean of 2 values, sum 14.000 divided by 2 " +
    "gives 7.000.");
  const pooled = given([[2, 2, 2], [0, 0, 0, 0, 0, 0, 0, 17]], [[2], [0, 0]]);
  const mean = unitArithmetic(net, input, pooled, 1, { channel: 1 });
  assert.deepEqual([mean.count, mean.total, mean.value], [4, 17, 17 / 4]);
  assert.equal(describeArithmetic(mean, "GlobalAveragePooling2D 1"),
    "Unit 2 in layer GlobalAveragePooling2D 1: the mean of the 4 values of map 2, 4.250.");
});

test("a dense unit after Flatten names each input's row, column and channel, channels last, and sums them by channel",
  () => {
  // A 1×2×3 map flattened to 6 values, through a dropout, into 2 softmax units whose kernel is 1 for unit 0 and 0
  // for unit 1.
  const layers = [{ name: "f", type: "Flatten" }, { name: "d", type: "Dropout" },
    { name: "out", type: "Dense", units: 2, activation: "softmax",
      params: { kernel: Float32Array.from({ length: 12 }, (_, i) => (i % 2 ? 0 : 1)), bias: Float32Array.of(0.5, 0) } }];
  const net = handMade([1, 2, 3], layers);
  const input = Float32Array.of(2, -2, 3, -4, 6, 0);
  const outputs = given([[6], input], [[6], input], [[2], [0, 0]]);
  const result = unitArithmetic(net, input, outputs, 2, { channel: 0 });
  assert.deepEqual(result.terms.map((t) => t.index), [4, 3, 2, 0, 1, 5]);
  assert.deepEqual(result.terms[1].position, { row: 0, column: 1, channel: 0 });
  assert.deepEqual(result.groups, [{ channel: 1, sum: 4 }, { channel: 2, sum: 3 }, { channel: 0, sum: -2 }]);
  assert.deepEqual([result.total, result.pre], [5, 5.5]);
  assert.deepEqual(result.logits, [5.5, 0]);
  assert.ok(Math.abs(result.value - 1 / (1 + Math.exp(-5.5))) < 1e-15);
  assert.equal(describeArithmetic(result, "Dense 1"),
    "Class 0 in layer Dense 1: sum 5.000 plus bias 0.500 gives logit 5.500, softmax gives 99.6%.");
  assert.throws(() => unitArithmetic(net, input, outputs, 0, { channel: 0 }),
    /Layer f \(Flatten\) computes nothing of its own/);
  assert.throws(() => unitArithmetic(net, input, outputs, 2, { channel: 2 }),
    /Layer out has no unit \{"channel":2\}: its output is 2\./);
});

test("a linear dense unit's sentence ends at its value, and a value that rounds to zero has no minus sign", () => {
  const layer = { name: "d", type: "Dense", units: 1, activation: "linear",
    params: { kernel: Float32Array.of(1), bias: Float32Array.of(-0.0002) } };
  const input = Float32Array.of(-0.5);
  const result = unitArithmetic(handMade([1], [layer]), input, given([[1], [-0.5002]]), 0, { channel: 0 });
  assert.deepEqual(result.groups, []);
  assert.equal(result.terms[0].position, null);
  assert.equal(describeArithmetic(result, "Dense 1"), "Unit 1 in layer Dense 1: sum -0.500 plus bias 0.000 gives -0.500.");
});

const fixture = JSON.parse(readFileSync(ARITHMETIC_FIXTURE, "utf8"));

/** The median of some numbers. */
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Whether the values are sorted by their size, largest first. */
const sortedBySize = (values) => values.every((v, i) => i === 0 || Math.abs(values[i - 1]) >= Math.abs(v));

/** The largest differences from Keras of each kind of number, and where they were: absolute, and relative to
 * Keras's value where that is larger than 1 (the one the tolerance bounds). NaN, a number missing on either side,
 * stays the largest. */
class Differences {
  constructor() {
    this.largest = {};
    this.relative = {};
  }

  static keep(table, kind, diff, where) {
    if (!(kind in table) || (!Number.isNaN(table[kind].diff) && !(diff <= table[kind].diff))) table[kind] = { diff, where };
  }

  compare(kind, ours, theirs, where) {
    const diff = Math.abs(ours - theirs);
    Differences.keep(this.largest, kind, diff, where);
    Differences.keep(this.relative, kind, diff / Math.max(1, Math.abs(theirs)), where);
  }

  compareAll(kind, ours, theirs, where) {
    assert.equal(ours.length, theirs.length, `${where}: ${ours.length} ${kind} where Keras has ${theirs.length}`);
    ours.forEach((value, i) => this.compare(kind, value, theirs[i], `${where}, ${kind} ${i}`));
  }

  /** One line for each kind of number that differs by more than the tolerance. */
  failing(tolerance) {
    return Object.entries(this.relative).filter(([, { diff }]) => !(diff <= tolerance)).map(([kind, { diff, where }]) =>
      `${kind} differ from Keras by up to ${diff.toExponential(2)} (more than ${tolerance}, relative to values above 1), ` +
      `at ${where}`);
  }
}

/** A convolution unit against NumPy's patch, kernel, products and sums for each input channel, and Keras's value. */
function checkConvolution(result, reference, where, differences) {
  assert.deepEqual([result.top, result.left, result.size], [reference.top, reference.left, reference.size], where);
  assert.ok(sortedBySize(result.contributions.map((entry) => entry.sum)), `${where}: contributions not sorted by size`);
  const byChannel = [...result.contributions].sort((a, b) => a.channel - b.channel);
  assert.deepEqual(byChannel.map((entry) => entry.channel), reference.sums.map((_, i) => i), where);
  byChannel.forEach((entry, ci) => {
    differences.compareAll("patch values", entry.patch, reference.patch[ci], `${where}, channel ${ci}`);
    differences.compareAll("weights", entry.kernel, reference.kernel[ci], `${where}, channel ${ci}`);
    differences.compareAll("products", entry.products, reference.products[ci], `${where}, channel ${ci}`);
    differences.compare("contributions", entry.sum, reference.sums[ci], `${where}, channel ${ci}`);
  });
  const sums = result.contributions.reduce((sum, entry) => sum + entry.sum, 0);
  differences.compare("sums and biases", result.total, sums, `${where}: total`);
  differences.compare("sums and biases", result.pre, result.total + result.bias, `${where}: sum plus bias`);
  differences.compare("weights", result.bias, reference.bias, `${where}, bias`);
  differences.compare("pre-activations", result.pre, reference.pre, where);
  assert.equal(result.value, result.activation === "relu" ? Math.max(result.pre, 0) : result.pre, where);
}

/** A pooling unit against NumPy's window, its padding, where the largest value is, and how many it averages. */
function checkPooling(result, reference, where, differences, tolerance) {
  assert.deepEqual([result.top, result.left, result.size], [reference.top, reference.left, reference.size], where);
  assert.deepEqual(result.window.map((v) => v === null), reference.window.map((v) => v === null), `${where}: padding`);
  differences.compareAll("patch values", result.window.map((v) => v ?? 0), reference.window.map((v) => v ?? 0), where);
  if (result.type === "AveragePooling2D") {
    assert.equal(result.count, reference.count, where);
    return;
  }
  const { row, column } = result.maxAt;
  assert.equal(result.window[(row - result.top) * result.size[1] + column - result.left], result.value,
    `${where}: maxAt does not hold the value`);
  assert.equal(Math.max(...result.window.filter((v) => v !== null)), result.value, `${where}: not the largest`);
  if (reference.margin === null || reference.margin > tolerance) {
    assert.deepEqual(result.maxAt, reference.argmax, `${where}: another largest value`);
  }
}

/** A dense unit against NumPy's largest terms and channel sums, and Keras's logits and probabilities. */
function checkDense(result, reference, where, differences, inputs) {
  assert.equal(result.terms.length, inputs, where);
  assert.ok(sortedBySize(result.terms.map((term) => term.product)), `${where}: terms not sorted by size`);
  assert.ok(sortedBySize(result.groups.map((group) => group.sum)), `${where}: groups not sorted by size`);
  const terms = new Map(result.terms.map((term) => [term.index, term]));
  for (const theirs of reference.terms) {
    const ours = terms.get(theirs.index);
    differences.compare("patch values", ours.input, theirs.input, `${where}, input ${theirs.index}`);
    differences.compare("weights", ours.weight, theirs.weight, `${where}, input ${theirs.index}`);
    differences.compare("products", ours.product, theirs.product, `${where}, input ${theirs.index}`);
    assert.deepEqual(ours.position, theirs.position, `${where}, input ${theirs.index}`);
  }
  const [first] = result.terms;
  differences.compare("products", Math.abs(first.product), Math.abs(reference.terms[0].product), `${where}: largest term`);
  const groups = new Map(result.groups.map((group) => [group.channel, group.sum]));
  assert.equal(groups.size, reference.groups.length, `${where}: groups`);
  for (const { channel, sum } of reference.groups) {
    differences.compare("contributions", groups.get(channel), sum, `${where}, group ${channel}`);
  }
  differences.compare("contributions", result.total, reference.total, `${where}: total`);
  const sums = result.terms.reduce((sum, term) => sum + term.product, 0);
  differences.compare("sums and biases", result.total, sums, `${where}: total`);
  differences.compare("sums and biases", result.pre, result.total + result.bias, `${where}: sum plus bias`);
  differences.compare("weights", result.bias, reference.bias, `${where}, bias`);
  differences.compare("pre-activations", result.pre, reference.pre, where);
  if (!reference.probabilities) {
    assert.equal(result.value, result.activation === "relu" ? Math.max(result.pre, 0) : result.pre, where);
    return;
  }
  differences.compareAll("logits", result.logits, reference.logits, where);
  differences.compareAll("probabilities", result.probabilities, reference.probabilities, where);
  assert.equal(result.value, result.probabilities[reference.unit.channel], where);
}

/** The value of a unit in a layer's output. */
function valueAt({ shape, data }, unit) {
  return unit.row === undefined ? data[unit.channel] : data[(unit.row * shape[1] + unit.column) * shape[2] + unit.channel];
}

test("the arithmetic of every unit in the fixture matches Keras: products, contributions, pre-activations and " +
  "probabilities", () => {
  const inputs = new Float32Array(bytes(fixture.inputs));
  const { tolerance } = fixture;
  const differences = new Differences();
  const report = { tolerance, sets: {} };
  for (const set of fixture.sets) {
    const manifest = JSON.parse(readFileSync(set.manifest, "utf8"));
    const net = decodeConvnet(manifest, bytes(join(dirname(set.manifest), manifest.weights.file)));
    const passes = new Map();
    const times = {};
    const pairs = {};
    for (const reference of set.units) {
      const input = inputs.subarray(reference.digit * 784, (reference.digit + 1) * 784);
      if (!passes.has(reference.digit)) passes.set(reference.digit, forward(net, input));
      const outputs = passes.get(reference.digit);
      const { layer, unit } = reference;
      const where = `${set.name}: digit ${reference.digit}, layer ${reference.name} unit ${JSON.stringify(unit)}`;
      const result = unitArithmetic(net, input, outputs, layer, unit);
      const runs = Array.from({ length: 5 }, () => {
        const start = performance.now();
        unitArithmetic(net, input, outputs, layer, unit);
        return performance.now() - start;
      });
      (times[result.type] ??= []).push(median(runs));
      pairs[reference.name] = (pairs[reference.name] ?? 0) + 1;
      assert.equal(result.type, reference.type, where);
      const forwardValue = valueAt(outputs[layer], unit);
      differences.compare("values", result.value, forwardValue, `${where}, against the page's forward pass`);
      differences.compare("values", result.value, reference.value, where);
      if (result.type === "Conv2D") checkConvolution(result, reference, where, differences);
      else if (result.type === "MaxPooling2D" || result.type === "AveragePooling2D") {
        checkPooling(result, reference, where, differences, tolerance);
      } else if (result.type === "GlobalAveragePooling2D") {
        assert.equal(result.count, reference.count, where);
        differences.compare("contributions", result.total, reference.total, `${where}: total`);
      } else checkDense(result, reference, where, differences, (layer === 0 ? input : outputs[layer - 1].data).length);
    }
    const byType = (summary) => Object.fromEntries(Object.entries(times).map(([type, list]) => [type, summary(list)]));
    report.sets[set.name] = { pairs, median_ms: byType(median), slowest_ms: byType((list) => Math.max(...list)) };
    console.log(`checked ${set.units.length} units of ${set.name} against Keras`);
  }
  Object.assign(report, { largest_differences: differences.largest, largest_relative_differences: differences.relative });
  writeFileSync(fixture.report, JSON.stringify(report, null, 2));
  const failing = differences.failing(tolerance);
  assert.deepEqual(failing, [], `the arithmetic panel disagrees with Keras:\n${failing.join("\n")}`);
});

test("the sentence a screen reader hears gives the unit's own numbers, for one unit of each layer type in the fixture",
  () => {
  const inputs = new Float32Array(bytes(fixture.inputs));
  const fixed = (value) => value.toFixed(3).replace(/^-(0\.0+)$/, "$1");
  const seen = new Set();
  for (const set of fixture.sets) {
    const manifest = JSON.parse(readFileSync(set.manifest, "utf8"));
    const net = decodeConvnet(manifest, bytes(join(dirname(set.manifest), manifest.weights.file)));
    for (const reference of set.units.filter((r) => !seen.has(r.type) && seen.add(r.type))) {
      const input = inputs.subarray(reference.digit * 784, (reference.digit + 1) * 784);
      const result = unitArithmetic(net, input, forward(net, input), reference.layer, reference.unit);
      const { row, column, channel } = reference.unit;
      const label = `${result.type} ${reference.layer + 1}`;
      const sentence = describeArithmetic(result, label);
      const unit = `Unit (row ${row}, column ${column}) of map ${channel + 1} in layer ${label}: `;
      const expected = {
        Conv2D: () => `${unit}sum ${fixed(result.total)} plus bias ${fixed(result.bias)} gives ${fixed(result.pre)}` +
          (result.activation === "relu" ? `, ReLU gives ${fixed(result.value)}.` : "."),
        MaxPooling2D: () => `${unit}the largest of ${result.window.filter((v) => v !== null).length} values, ` +
          `${fixed(result.value)}, from input row ${result.maxAt.row}, column ${result.maxAt.column}.`,
        AveragePooling2D: () => `${unit}the mean of ${result.count} values, sum ${fixed(result.total)} divided by ` +
          `${result.count} gives ${fixed(result.value)}.`,
        GlobalAveragePooling2D: () => `Unit ${channel + 1} in layer ${label}: the mean of the ${result.count} values of ` +
          `map ${channel + 1}, ${fixed(result.value)}.`,
        Dense: () => (result.activation === "softmax"
          ? `Class ${channel} in layer ${label}: sum ${fixed(result.total)} plus bias ${fixed(result.bias)} gives logit ` +
            `${fixed(result.pre)}, softmax gives ${(100 * result.value).toFixed(1)}%.`
          : `Unit ${channel + 1} in layer ${label}: sum ${fixed(result.total)} plus bias ${fixed(result.bias)} gives ` +
            `${fixed(result.pre)}${result.activation === "relu" ? `, ReLU gives ${fixed(result.value)}` : ""}.`),
      }[result.type]();
      assert.equal(sentence, expected);
      const percent = sentence.endsWith("%.");
      const keras = percent ? 100 * reference.value : reference.value;
      const numbers = sentence.match(/-?\d+\.\d+/g).map(Number);
      const rounding = (percent ? 0.05 : 0.0005) + 1e-5;
      assert.ok(numbers.some((n) => Math.abs(n - keras) <= rounding), `${sentence}: no Keras's ${keras} in it`);
    }
  }
  assert.deepEqual([...seen].sort(), ["AveragePooling2D", "Conv2D", "Dense", "GlobalAveragePooling2D", "MaxPooling2D"]);
});
