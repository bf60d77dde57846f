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
  argmax, checkManifest, decodeConvnet, decodeDigits, forward, loadConvnet, MANIFEST_LIMIT, padding, readModelFiles,
  receptiveField, receptiveFields, WEIGHTS_LIMIT, WeightsError,
} from "../../docs/javascripts/convnet.mjs";
import { sha256Hex } from "../../docs/javascripts/sha256.mjs";
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
    digits: manifest.digits && bytes(join(dirname(manifestPath), manifest.digits.file)) };
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
  const layers = manifest.layers.map((layer, i) => (i === 1 ? { ...layer, type: "BatchNormalization" } : layer));
  assert.throws(() => checkManifest({ ...manifest, layers }), /This page cannot run the network’s BatchNormalization layer max_pooling2d\./);
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
  const net = { manifest, inputShape: [4, 4, 1], layers: manifest.layers.map((layer) => ({ ...layer, params: {} })) };
  net.layers[0].params = { kernel: weights.subarray(0, 4), bias: weights.subarray(4, 5) };
  net.layers[3].params = { kernel: weights.subarray(5, 6), bias: weights.subarray(6, 7) };
  const input = Float32Array.from([0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 0, 0, 0, 0, 0, 0]);
  const [conv, pool, flat, dense] = forward(net, input);
  assert.deepEqual([...conv.data], [0, 2, 1, 3, 5, 1, 2, 2, 0]); // window sums minus 1, negatives set to 0
  assert.deepEqual([...pool.data], [5]);
  assert.deepEqual([...flat.data], [5]);
  assert.deepEqual([...dense.data], [10]);
  assert.deepEqual(receptiveFields(net), [{ index: 0, size: 2, jump: 1, start: 0 }, { index: 1, size: 3, jump: 2, start: 0 }]);
  assert.deepEqual(receptiveField(net, 1, 0, 0), { top: 0, left: 0, size: 3 });
  assert.throws(() => forward(net, new Float32Array(15)), /takes 16 input values, not 15/);
});

const fixture = JSON.parse(readFileSync(PLAYGROUND_FIXTURE, "utf8"));

test("\"same\" padding follows Keras: out = ceil(size / stride), the odd pixel of padding after", () => {
  assert.deepEqual(padding(28, 3, 1, "same"), { before: 1, after: 1, out: 28 });
  assert.deepEqual(padding(28, 3, 2, "same"), { before: 0, after: 1, out: 14 }); // (14 − 1)·2 + 3 − 28 = 1
  assert.deepEqual(padding(7, 3, 2, "same"), { before: 1, after: 1, out: 4 }); // (4 − 1)·2 + 3 − 7 = 2
  assert.deepEqual(padding(11, 2, 2, "same"), { before: 0, after: 1, out: 6 });
  assert.deepEqual(padding(14, 2, 2, "same"), { before: 0, after: 0, out: 7 });
  assert.deepEqual(padding(28, 3, 1, "valid"), { before: 0, after: 0, out: 26 });
  assert.deepEqual(padding(13, 2, 2, "valid"), { before: 0, after: 0, out: 6 });
});

/** A hand-made network on a 3×3 one-channel input (the page's checks need 28×28×1, so it skips decodeConvnet). */
function tinyNet(layer, params = {}) {
  return { manifest: {}, inputShape: [3, 3, 1], layers: [{ name: "t", weights: [], ...layer, params }] };
}

test("\"same\" padding at stride 2, average, max and global average pooling give what the formulas say on a 3×3 map", () => {
  const input = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // A 3×3 kernel of ones at stride 2 with "same" padding: one row and column of zeros before and after.
  const conv = tinyNet({ type: "Conv2D", filters: 1, kernel_size: [3, 3], strides: [2, 2], padding: "same", activation: "relu" },
    { kernel: new Float32Array(9).fill(1), bias: Float32Array.from([-20]) });
  const [convOut] = forward(conv, input);
  assert.deepEqual([...convOut.pre], [12 - 20, 16 - 20, 24 - 20, 28 - 20]); // 1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9
  assert.deepEqual([...convOut.data], [0, 0, 4, 8]);
  assert.deepEqual(receptiveFields(conv), [{ index: 0, size: 3, jump: 2, start: -1 }]);
  assert.deepEqual(receptiveField(conv, 0, 1, 0), { top: 1, left: -1, size: 3 });
  // 2×2 pooling at stride 2, "same": no padding before, one after; the average divides by the real inputs.
  const pool = { pool_size: [2, 2], strides: [2, 2], padding: "same" };
  const [average] = forward(tinyNet({ type: "AveragePooling2D", ...pool }), input);
  assert.deepEqual([...average.data], [3, 4.5, 7.5, 9]);
  const [largest] = forward(tinyNet({ type: "MaxPooling2D", ...pool }), Float32Array.from(input, (v) => -v));
  assert.deepEqual([...largest.data], [-1, -3, -7, -9]); // the padding is never the maximum, even of negatives
  const [mean] = forward(tinyNet({ type: "GlobalAveragePooling2D" }), input);
  assert.deepEqual([...mean.data], [5]);
  assert.deepEqual(mean.shape, [1]);
  const [dropped] = forward(tinyNet({ type: "Dropout" }), input);
  assert.deepEqual([...dropped.data], [...input]);
});

const asFile = (data, name) => new File([data], name);

/** A weights file with one value replaced, and a manifest whose SHA-256 matches it (so only the value is wrong). */
function withValue(manifest, weights, index, value) {
  const floats = new Float32Array(weights.slice(0));
  floats[index] = value;
  return { manifest: { ...manifest, weights: { ...manifest.weights, sha256: sha256Hex(floats.buffer) } }, weights: floats.buffer };
}

const editedLayer = (manifest, index, edit) => ({ ...manifest, layers: manifest.layers.map((layer, i) => (i === index ? { ...layer, ...edit } : layer)) });

test("a reader's files are read back into the very network that decodeConvnet makes of them, in any order, the book's digits file chosen too or not", async () => {
  const { manifest, weights } = readExport(PUBLISHED);
  const json = JSON.stringify(manifest);
  const files = [asFile(weights, manifest.weights.file), asFile(json, "convnet.json")];
  const input = new Float32Array(bytes(fixture.inputs)).subarray(0, 784);
  const expected = forward(decodeConvnet(manifest, weights), input).map((o) => [...o.data]);
  const digitsFile = asFile(readExport(PUBLISHED).digits, manifest.digits.file); // the book's third file, chosen too
  for (const chosen of [files, [...files].reverse(), [digitsFile, ...files]]) {
    const net = await readModelFiles(chosen);
    assert.deepEqual(forward(net, input).map((o) => [...o.data]), expected);
    assert.equal(net.layers[0].padding, "valid"); // what a manifest without padding means
  }
});

test("each bad file or set of files is refused with its own sentence", async () => {
  const { manifest, weights } = readExport(PUBLISHED);
  const json = JSON.stringify(manifest);
  const weightsName = manifest.weights.file;
  const refused = async (files, message) => assert.rejects(readModelFiles(files),
    (error) => error instanceof WeightsError && error.message === message, message);
  const sentence = (edited, weightsBuffer = weights) => {
    try {
      decodeConvnet(edited, weightsBuffer);
    } catch (error) {
      assert.ok(error instanceof WeightsError);
      return error.message;
    }
    assert.fail("decodeConvnet accepted a bad export");
  };
  await refused([asFile(weights, weightsName)], "The manifest (a .json file) is missing: choose it together with its weights file.");
  await refused([asFile(json, "m.json")], "The weights file (a .bin file) is missing: choose it together with its manifest.");
  await refused([asFile("PK", "mine.keras")], "This page reads the two files that convnets-export writes, not mine.keras itself: " +
    "run convnets-export mine.keras OUTDIR, then choose the .json and .bin files it wrote.");
  await refused([asFile(json, "m.json"), asFile(json, "n.json"), asFile(weights, weightsName)],
    "Choose one manifest (.json), not 2, with its weights file.");
  await refused([asFile(json, "m.json"), asFile(weights, "a.bin"), asFile(weights, "b.bin")],
    `Of the 2 .bin files chosen, none is ${weightsName}, the manifest's weights file.`);
  await refused([asFile(weights.slice(0, weights.byteLength - 8), weightsName), asFile(json, "m.json")],
    `The weights file has ${(weights.byteLength - 8).toLocaleString("en")} bytes where the manifest says ` +
    `${weights.byteLength.toLocaleString("en")}: it was cut short or replaced.`);
  const edited = new Uint8Array(weights.slice(0));
  edited[4 * 100 + 2] ^= 0x10;
  await refused([asFile(edited, weightsName), asFile(json, "m.json")],
    "The weights file fails its SHA-256 check: it is not the file the manifest describes.");
  await refused([asFile("{\"format\": ", "m.json"), asFile(weights, weightsName)], "The manifest m.json is not valid JSON.");
  const conv = manifest.layers[2];
  assert.equal(sentence(editedLayer(manifest, 2, { type: "DepthwiseConv2D" })),
    `This page cannot run the network’s DepthwiseConv2D layer ${conv.name}.`);
  assert.equal(sentence(editedLayer(manifest, 2, { strides: [2, 2] })),
    `The network’s layers do not fit together at Conv2D layer ${conv.name}: its input is 13×13×32 and it gives 6×6×64, ` +
    "not the manifest’s 11×11×64.");
  assert.equal(sentence(editedLayer(manifest, 2, { padding: "same" })),
    `The network’s layers do not fit together at Conv2D layer ${conv.name}: its input is 13×13×32 and it gives 13×13×64, ` +
    "not the manifest’s 11×11×64.");
  const dense = manifest.layers.at(-1);
  assert.equal(sentence(editedLayer(manifest, manifest.layers.length - 1, { units: 11, output_shape: [11] })),
    `The weights the manifest gives Dense layer ${dense.name} do not fit it: it needs kernel 1152×11 and bias 11.`);
  assert.equal(sentence({ ...manifest, input_shape: [32, 32, 1] }), "This page runs networks on 28×28×1 digits, and this one takes 32×32×1 inputs.");
  const kernelAt = conv.weights[0].offset + 5;
  for (const value of [NaN, Infinity, -Infinity]) {
    const bad = withValue(manifest, weights, kernelAt, value);
    await refused([asFile(JSON.stringify(bad.manifest), "m.json"), asFile(bad.weights, weightsName)],
      `The kernel of Conv2D layer ${conv.name} holds NaN or infinite values: the model was exported after its training diverged.`);
  }
});

test("files too large are refused by their size, before a byte of them is read", async () => {
  const unread = (name, size) => ({ name, size, text: () => assert.fail(`${name} was read`), arrayBuffer: () => assert.fail(`${name} was read`) });
  const { manifest, weights } = readExport(PUBLISHED);
  const json = asFile(JSON.stringify(manifest), "m.json");
  await assert.rejects(readModelFiles([json, unread("huge.weights.bin", 500 * 1024 ** 2)]),
    { name: "WeightsError", message: "The file huge.weights.bin is 500 MB, more than the 64 MB this page reads." });
  await assert.rejects(readModelFiles([json, unread("w.bin", WEIGHTS_LIMIT + 1)]), /more than the 64 MB this page reads/);
  await assert.rejects(readModelFiles([unread("big.json", 5 * 1024 ** 2), asFile(weights, "w.bin")]),
    { name: "WeightsError", message: "The manifest big.json is 5 MB, more than the 1 MB a manifest can be." });
  await assert.rejects(readModelFiles([unread("big.json", MANIFEST_LIMIT + 1), asFile(weights, "w.bin")]), /more than the 1 MB/);
});



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

/** The median of `runs` timings of `work`, in milliseconds. */
function medianMs(runs, work) {
  const times = Array.from({ length: runs }, (_, i) => {
    const start = performance.now();
    work(i);
    return performance.now() - start;
  }).sort((a, b) => a - b);
  return times[Math.floor(runs / 2)];
}

test("every layer of each exported architecture, and its values before the activations, match Keras", async () => {
  assert.ok(fixture.architectures.length >= 3, `${PLAYGROUND_FIXTURE} holds ${fixture.architectures.length} architectures, not 3`);
  const inputs = new Float32Array(bytes(fixture.inputs));
  const digit = (n) => inputs.subarray(n * 784, (n + 1) * 784);
  const report = {};
  for (const set of fixture.architectures) {
    const { manifest, weights } = readExport(set.manifest);
    const net = await readModelFiles([asFile(JSON.stringify(manifest), `${set.name}.json`), asFile(weights, manifest.weights.file)]);
    const reference = new Float32Array(bytes(set.reference));
    const worst = set.layers.map(() => 0);
    const worstPre = set.layers.map(() => 0);
    const differ = (a, base, n) => {
      let most = 0;
      for (let j = 0; j < a.length; j++) most = Math.max(most, Math.abs(a[j] - reference[base + n * a.length + j]));
      return most;
    };
    const predicted = [];
    for (let n = 0; n < set.count; n++) {
      const outputs = forward(net, digit(n));
      outputs.forEach((output, i) => {
        worst[i] = Math.max(worst[i], differ(output.data, set.layers[i].offset, n));
        if ("pre_offset" in set.layers[i]) worstPre[i] = Math.max(worstPre[i], differ(output.pre, set.layers[i].pre_offset, n));
        else assert.equal(output.pre, undefined);
      });
      predicted.push(argmax(outputs.at(-1).data));
    }
    const milliseconds = medianMs(50, (i) => forward(net, digit(i % set.count)));
    report[set.name] = { digits: set.count, largest: Math.max(...worst.slice(0, -1), ...worstPre), probabilities: worst.at(-1),
      forward_ms_median_of_50: milliseconds,
      layers: Object.fromEntries(set.layers.map((layer, i) => [layer.name,
        { output: worst[i], pre: "pre_offset" in layer ? worstPre[i] : null }])) };
    writeFileSync(join(dirname(fixture.report), "architectures-report.json"), JSON.stringify(report, null, 2));
    set.layers.forEach((layer, i) => {
      const tolerance = i === set.layers.length - 1 ? fixture.tolerances.probability : fixture.tolerances.layer;
      assert.ok(worst[i] <= tolerance, `${set.name}: layer ${layer.name} differs from Keras by up to ${worst[i].toExponential(2)}`);
      assert.ok(worstPre[i] <= fixture.tolerances.layer,
        `${set.name}: layer ${layer.name} before its activation differs from Keras by up to ${worstPre[i].toExponential(2)}`);
    });
    assert.deepEqual(predicted, set.predicted, `${set.name}: the predicted classes differ from Keras's`);
    assert.deepEqual(receptiveFields(net).map((f) => f.size), set.receptive_fields);
    console.log(`checked ${set.count} digits of ${set.name} against Keras on ${set.layers.length} layers: largest difference ` +
      `${report[set.name].largest.toExponential(1)} (probabilities ${worst.at(-1).toExponential(1)}), forward pass ${milliseconds.toFixed(2)} ms`);
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
