// The playground's network module: its checks of the files it reads, and its forward pass against Keras on
// every layer, for the exports named in the fixture that tests/test_playground.py writes (fixtures.mjs). The
// published export in snaps/ is read directly for the other tests.

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { BOX, CENTRE } from "../../docs/javascripts/digit-image.mjs";
import {
  argmax, checkManifest, decodeConvnet, decodeDigits, forward, loadConvnet, receptiveField, receptiveFields, WeightsError,
} from "../../docs/javascripts/convnet.mjs";
import { PLAYGROUND_FIXTURE } from "./fixtures.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const PUBLISHED = join(ROOT, "snaps", "convnet.json");

/** A file's bytes as an ArrayBuffer of their own (Node's pooled Buffers may share one). */
function bytes(path) {
  const buffer = readFileSync(path);
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.length);
}

function readExport(manifestPath) {
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
  return { manifest, weights: bytes(join(dirname(manifestPath), manifest.weights.file)),
    digits: bytes(join(dirname(manifestPath), manifest.digits.file)) };
}

/** A fetch that serves files from a folder, answering 404 for those that are not there. */
function folderFetch(folder, replace = {}) {
  return async (url) => {
    const name = new URL(url).pathname.split("/").pop();
    if (name in replace) return replace[name];
    try {
      const body = readFileSync(join(folder, name));
      return new Response(body, { status: 200 });
    } catch {
      return new Response("not found", { status: 404 });
    }
  };
}

test("the published export decodes: every weight array of the manifest, its digits, and a softmax that sums to 1", () => {
  const { manifest, weights, digits } = readExport(PUBLISHED);
  const net = decodeConvnet(manifest, weights);
  assert.equal(net.layers.length, manifest.layers.length);
  const count = net.layers.flatMap((layer) => Object.values(layer.params)).reduce((sum, array) => sum + array.length, 0);
  assert.equal(count, manifest.parameters);
  const images = decodeDigits(manifest, digits);
  assert.equal(images.length, manifest.digits.count * 28 * 28);
  const outputs = forward(net, Float32Array.from(images.subarray(0, 784), (v) => v / 255));
  const probabilities = outputs.at(-1).data;
  assert.ok(Math.abs(probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  assert.deepEqual(outputs.map((o) => o.shape), manifest.layers.map((layer) => layer.output_shape));
});

test("a weights file cut short, changed by one byte or missing is refused with a sentence that says so", async () => {
  const { manifest, weights } = readExport(PUBLISHED);
  const short = (weights.byteLength - 4).toLocaleString("en");
  assert.throws(() => decodeConvnet(manifest, weights.slice(0, weights.byteLength - 4)), (error) => error instanceof WeightsError &&
    error.message === `The weights file has ${short} bytes where the manifest says ${manifest.weights.bytes.toLocaleString("en")}: ` +
      "it was cut short or replaced.");
  const changed = new Uint8Array(weights.slice(0));
  changed[1000] ^= 1;
  assert.throws(() => decodeConvnet(manifest, changed.buffer), /The weights file fails its SHA-256 check/);
  const folder = dirname(PUBLISHED);
  await assert.rejects(loadConvnet("http://site/snaps/convnet.json", folderFetch(folder, { "convnet.weights.bin": new Response("", { status: 404 }) })),
    /The network's weights file could not be loaded: the server answered 404 for http:\/\/site\/snaps\/convnet.weights.bin/);
  await assert.rejects(loadConvnet("http://site/snaps/convnet.json", folderFetch(folder, { "convnet.json": new Response("{", { status: 200 }) })),
    /The network's manifest is not valid JSON/);
  const { net, digits } = await loadConvnet("http://site/snaps/convnet.json", folderFetch(folder));
  assert.equal(digits.length, net.manifest.digits.count * 784);
});

test("a manifest in another format, with a layer the page cannot run, or that does not add up is refused", () => {
  const { manifest } = readExport(PUBLISHED);
  assert.throws(() => checkManifest({ ...manifest, format: "other/1" }), /not in the format this page reads/);
  const layers = manifest.layers.map((layer, i) => (i === 1 ? { ...layer, type: "AveragePooling2D" } : layer));
  assert.throws(() => checkManifest({ ...manifest, layers }), /This page cannot run the network’s AveragePooling2D layer max_pooling2d\./);
  assert.throws(() => checkManifest({ ...manifest, parameters: manifest.parameters + 1 }), /do not add up/);
});

test("a valid convolution, ReLU, pooling, flatten and dense layer compute what the formulas say on a tiny network", () => {
  // A 4×4 input, one 2×2 filter of ones with bias −1, 2×2 pooling, and a dense layer that doubles.
  const weights = Float32Array.from([1, 1, 1, 1, -1, 2, 0]);
  const manifest = {
    format: "convnets-browser-weights/1", parameters: 7, input_shape: [4, 4, 1],
    weights: { bytes: 28 },
    layers: [
      { name: "c", type: "Conv2D", filters: 1, kernel_size: [2, 2], strides: [1, 1], activation: "relu", output_shape: [3, 3, 1],
        weights: [{ name: "kernel", shape: [2, 2, 1, 1], offset: 0 }, { name: "bias", shape: [1], offset: 4 }] },
      { name: "p", type: "MaxPooling2D", pool_size: [2, 2], strides: [2, 2], output_shape: [1, 1, 1], weights: [] },
      { name: "f", type: "Flatten", output_shape: [1], weights: [] },
      { name: "d", type: "Dense", units: 1, activation: "linear", output_shape: [1],
        weights: [{ name: "kernel", shape: [1, 1], offset: 5 }, { name: "bias", shape: [1], offset: 6 }] },
    ],
  };
  manifest.weights.sha256 = "skip";
  checkManifest(manifest);
  const net = { manifest, inputShape: [4, 4, 1], layers: manifest.layers.map((layer) => ({ ...layer, params: {} })) };
  net.layers[0].params = { kernel: weights.subarray(0, 4), bias: weights.subarray(4, 5) };
  net.layers[3].params = { kernel: weights.subarray(5, 6), bias: weights.subarray(6, 7) };
  const input = Float32Array.from([0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 0, 0, 0, 0, 0, 0]);
  const [conv, pool, flat, dense] = forward(net, input);
  assert.deepEqual([...conv.data], [0, 2, 1, 3, 5, 1, 2, 2, 0]); // window sums minus 1, negatives set to 0
  assert.deepEqual([...pool.data], [5]);
  assert.deepEqual([...flat.data], [5]);
  assert.deepEqual([...dense.data], [10]);
  assert.deepEqual(receptiveFields(net), [{ index: 0, size: 2, jump: 1 }, { index: 1, size: 3, jump: 2 }]);
  assert.deepEqual(receptiveField(net, 1, 0, 0), { top: 0, left: 0, size: 3 });
  assert.throws(() => forward(net, new Float32Array(15)), /takes 16 input values, not 15/);
});

const fixture = JSON.parse(readFileSync(PLAYGROUND_FIXTURE, "utf8"));

test("every layer of every export matches Keras on the fixture's test digits", () => {
  assert.ok(fixture.sets.length > 0, `${PLAYGROUND_FIXTURE} names no export to check`);
  const inputs = new Float32Array(bytes(fixture.inputs));
  const report = {};
  for (const set of fixture.sets) {
    const { manifest, weights } = readExport(set.manifest);
    const net = decodeConvnet(manifest, weights);
    const reference = new Float32Array(bytes(set.reference));
    const worst = set.layers.map(() => 0);
    const predicted = [];
    for (let n = 0; n < fixture.count; n++) {
      const outputs = forward(net, inputs.subarray(n * 784, (n + 1) * 784));
      outputs.forEach((output, i) => {
        const size = output.data.length;
        const base = set.layers[i].offset + n * size;
        for (let j = 0; j < size; j++) worst[i] = Math.max(worst[i], Math.abs(output.data[j] - reference[base + j]));
      });
      predicted.push(argmax(outputs.at(-1).data));
    }
    report[set.name] = { digits: fixture.count, layers: Object.fromEntries(set.layers.map((layer, i) => [layer.name, worst[i]])),
      same_class: predicted.filter((c, n) => c === set.predicted[n]).length };
    writeFileSync(fixture.report, JSON.stringify(report, null, 2));
    const advice = `the exported weights (${set.manifest}) and the Keras model disagree: re-export them with ` +
      "`make figures ARGS=\"--only convnet\"`";
    set.layers.forEach((layer, i) => {
      const { layer: layerTolerance, probability } = fixture.tolerances;
      const tolerance = i === set.layers.length - 1 ? probability : layerTolerance;
      assert.ok(worst[i] <= tolerance, `${set.name}: layer ${layer.name} differs from Keras by up to ${worst[i].toExponential(2)}, ` +
        `more than ${tolerance}: ${advice}`);
    });
    const wrong = predicted.map((c, n) => [n, c, set.predicted[n]]).filter(([, c, k]) => c !== k);
    assert.deepEqual(wrong, [], `${set.name}: digits whose predicted class differs from Keras's ([digit, page, Keras]): ${advice}`);
    console.log(`checked ${fixture.count} digits of ${set.name} against Keras on ${set.layers.length} layers`);
  }
});

test("the receptive fields are those that convnets.shapes computes for the convolution chapter", () => {
  for (const set of fixture.sets) {
    const { manifest, weights } = readExport(set.manifest);
    assert.deepEqual(receptiveFields(decodeConvnet(manifest, weights)).map((f) => f.size), fixture.receptive_fields);
  }
});

test("the preprocessing's box and centre are MNIST's: the usual longer side of its digits, and their mean centre of mass",
  () => {
    assert.equal(BOX, fixture.mnist_box);
    assert.ok(Math.abs(CENTRE - fixture.mnist_centre) < 0.05, `MNIST's mean centre of mass is ${fixture.mnist_centre}`);
  });
