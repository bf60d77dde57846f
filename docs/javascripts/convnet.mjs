// The playground's network: reads the manifest and weights file that code/convnets/export.py writes (the book's
// convnet, or a reader's own model from `convnets-export`), checks them, and runs the forward pass one layer at
// a time, keeping every layer's output. Plain JavaScript on Float32Arrays, with no browser API but fetch and
// Blob reading, so that Node imports it too (tests/js/convnet.test.mjs checks it against Keras).

import { sha256Hex } from "./sha256.mjs";

export const FORMAT = "convnets-browser-weights/1";
export const MANIFEST_LIMIT = 1024 ** 2; // a manifest of 1 MB describes hundreds of layers
export const WEIGHTS_LIMIT = 64 * 1024 ** 2; // 16 million float32 weights, far more than a page can run at once
const INPUT_SHAPE = [28, 28, 1];
const ACTIVATIONS = { Conv2D: ["relu", "linear"], Dense: ["relu", "linear", "softmax"] };
const WINDOWED = ["Conv2D", "MaxPooling2D", "AveragePooling2D"];
const LAYER_TYPES = [...WINDOWED, "GlobalAveragePooling2D", "Flatten", "Dropout", "Dense"];
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Why the network cannot run: a file missing, too large, cut short, changed or not of this format. */
export class WeightsError extends Error {
  constructor(message) {
    super(message);
    this.name = "WeightsError";
  }
}

const product = (shape) => shape.reduce((a, b) => a * b, 1);
const shapeText = (shape) => shape.join("×");
const sameShape = (a, b) => Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((n, i) => n === b[i]);
const counts = (values, length) => Array.isArray(values) && values.length === length && values.every((n) => Number.isInteger(n) && n >= 1);

/** One axis of a window sliding over `size` inputs: the padding before and after it, and the outputs' count.
 * "same" pads as Keras does, the odd pixel after: out = ceil(size / stride). */
export function padding(size, window, stride, mode) {
  if (mode !== "same") return { before: 0, after: 0, out: Math.floor((size - window) / stride) + 1 };
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + window - size, 0);
  const before = Math.floor(total / 2);
  return { before, after: total - before, out };
}

/** A windowed layer's window [wh, ww]. */
const windowOf = (layer) => (layer.type === "Conv2D" ? layer.kernel_size : layer.pool_size);

/** Refuse settings this module cannot run, naming the layer. */
function checkSettings(layer) {
  const fine = WINDOWED.includes(layer.type)
    ? counts(windowOf(layer), 2) && counts(layer.strides, 2) && ["valid", "same", undefined].includes(layer.padding)
    : true;
  const sized = layer.type === "Conv2D" ? counts([layer.filters], 1) : layer.type === "Dense" ? counts([layer.units], 1) : true;
  const activation = !(layer.type in ACTIVATIONS) || ACTIVATIONS[layer.type].includes(layer.activation);
  if (!fine || !sized || !activation) {
    throw new WeightsError(`This page cannot run the settings of the network’s ${layer.type} layer ${layer.name}.`);
  }
}

/** The output shape of `layer` on an input of `shape`, or null where it cannot take that input. */
function outputShape(layer, shape) {
  if (WINDOWED.includes(layer.type)) {
    if (shape.length !== 3) return null;
    const [wh, ww] = windowOf(layer);
    const rows = padding(shape[0], wh, layer.strides[0], layer.padding).out;
    const columns = padding(shape[1], ww, layer.strides[1], layer.padding).out;
    if (rows < 1 || columns < 1) return null;
    return [rows, columns, layer.type === "Conv2D" ? layer.filters : shape[2]];
  }
  if (layer.type === "GlobalAveragePooling2D") return shape.length === 3 ? [shape[2]] : null;
  if (layer.type === "Flatten") return [product(shape)];
  if (layer.type === "Dropout") return shape;
  return shape.length === 1 ? [layer.units] : null; // Dense
}

/** The weight shapes a layer must have on an input of `shape`: { kernel, bias }, or {} for none. */
function weightShapes(layer, shape) {
  if (layer.type === "Conv2D") return { kernel: [...layer.kernel_size, shape[2], layer.filters], bias: [layer.filters] };
  if (layer.type === "Dense") return { kernel: [shape[0], layer.units], bias: [layer.units] };
  return {};
}

/** Refuse a manifest this module cannot run, with one sentence that says why. */
export function checkManifest(manifest) {
  if (!manifest || typeof manifest !== "object" || manifest.format !== FORMAT) {
    throw new WeightsError(`The network's manifest is not in the format this page reads (${FORMAT}).`);
  }
  if (!sameShape(manifest.input_shape, INPUT_SHAPE)) {
    const taken = Array.isArray(manifest.input_shape) ? `${shapeText(manifest.input_shape)} inputs` : "no input shape";
    throw new WeightsError(`This page runs networks on 28×28×1 digits, and this one takes ${taken}.`);
  }
  if (!Array.isArray(manifest.layers) || !manifest.weights) throw new WeightsError("The network's manifest lists no layers or no weights file.");
  let count = 0;
  let shape = INPUT_SHAPE;
  for (const layer of manifest.layers) {
    if (!LAYER_TYPES.includes(layer?.type)) throw new WeightsError(`This page cannot run the network’s ${layer?.type} layer ${layer?.name}.`);
    checkSettings(layer);
    const out = outputShape(layer, shape);
    if (!out || !sameShape(out, layer.output_shape)) {
      const gives = out ? `gives ${shapeText(out)}, not the manifest’s ${shapeText(layer.output_shape ?? [])}` : "cannot take it";
      throw new WeightsError(`The network’s layers do not fit together at ${layer.type} layer ${layer.name}: ` +
        `its input is ${shapeText(shape)} and it ${gives}.`);
    }
    const expected = weightShapes(layer, shape);
    const names = Object.keys(expected);
    const weights = layer.weights ?? [];
    if (weights.length !== names.length || weights.some((w, i) => w.name !== names[i] || !sameShape(w.shape, expected[w.name]))) {
      const wanted = names.length ? names.map((name) => `${name} ${shapeText(expected[name])}`).join(" and ") : "no weights";
      throw new WeightsError(`The weights the manifest gives ${layer.type} layer ${layer.name} do not fit it: it needs ${wanted}.`);
    }
    for (const weight of weights) {
      if (weight.offset !== count) throw new WeightsError(`The manifest places ${layer.name}'s ${weight.name} at an unexpected offset.`);
      count += product(weight.shape);
    }
    shape = out;
  }
  if (count * 4 !== manifest.weights.bytes || count !== manifest.parameters) {
    throw new WeightsError("The manifest's layers do not add up to its weights file.");
  }
}

/** Float32 values from little-endian bytes, whatever the byte order of the machine. */
function float32s(buffer) {
  if (LITTLE_ENDIAN) return new Float32Array(buffer.slice(0));
  const view = new DataView(buffer);
  return Float32Array.from({ length: buffer.byteLength / 4 }, (_, i) => view.getFloat32(4 * i, true));
}

/** Refuse the bytes of a file the manifest lists (`entry`: its size and SHA-256) unless they are that file. */
export function checkFile(buffer, entry, what) {
  if (buffer.byteLength !== entry.bytes) {
    throw new WeightsError(`The ${what} has ${buffer.byteLength.toLocaleString("en")} bytes where the manifest says ` +
      `${entry.bytes.toLocaleString("en")}: it was cut short or replaced.`);
  }
  if (sha256Hex(buffer) !== entry.sha256) {
    throw new WeightsError(`The ${what} fails its SHA-256 check: it is not the file the manifest describes.`);
  }
}

/** The network from its manifest and the bytes of its weights file, refused unless they are what the manifest says
 * and every weight is a finite number. Layers without `padding` get "valid" (older manifests). */
export function decodeConvnet(manifest, buffer) {
  checkManifest(manifest);
  checkFile(buffer, manifest.weights, "weights file");
  const flat = float32s(buffer);
  const layers = manifest.layers.map((layer) => {
    const params = {};
    for (const weight of layer.weights ?? []) {
      params[weight.name] = flat.subarray(weight.offset, weight.offset + product(weight.shape));
      if (!params[weight.name].every(Number.isFinite)) {
        throw new WeightsError(`The ${weight.name} of ${layer.type} layer ${layer.name} holds NaN or infinite values: ` +
          "the model was exported after its training diverged.");
      }
    }
    return WINDOWED.includes(layer.type) ? { ...layer, padding: layer.padding ?? "valid", params } : { ...layer, params };
  });
  return { manifest, layers, inputShape: manifest.input_shape };
}

/** The network in files the reader chose (Blobs with `.name` and `.size`): one manifest (.json) and its weights
 * file (.bin). Sizes are checked before anything is read; nothing leaves the page. */
export async function readModelFiles(files) {
  const chosen = Array.from(files ?? []);
  const manifests = chosen.filter((file) => file.name.toLowerCase().endsWith(".json"));
  const bins = chosen.filter((file) => file.name.toLowerCase().endsWith(".bin"));
  const saved = chosen.find((file) => /\.(keras|h5)$/i.test(file.name));
  if (manifests.length === 0 && saved) {
    throw new WeightsError(`This page reads the two files that convnets-export writes, not ${saved.name} itself: ` +
      `run convnets-export ${saved.name} OUTDIR, then choose the .json and .bin files it wrote.`);
  }
  if (manifests.length === 0) throw new WeightsError("The manifest (a .json file) is missing: choose it together with its weights file.");
  if (manifests.length > 1) throw new WeightsError(`Choose one manifest (.json), not ${manifests.length}, with its weights file.`);
  if (bins.length === 0) throw new WeightsError("The weights file (a .bin file) is missing: choose it together with its manifest.");
  const [file] = manifests;
  if (file.size > MANIFEST_LIMIT) {
    throw new WeightsError(`The manifest ${file.name} is ${megabytes(file.size)}, more than the ${megabytes(MANIFEST_LIMIT)} a manifest can be.`);
  }
  const large = bins.find((bin) => bin.size > WEIGHTS_LIMIT);
  if (large) {
    throw new WeightsError(`The file ${large.name} is ${megabytes(large.size)}, more than the ${megabytes(WEIGHTS_LIMIT)} this page reads.`);
  }
  let manifest;
  try {
    manifest = JSON.parse(await file.text());
  } catch {
    throw new WeightsError(`The manifest ${file.name} is not valid JSON.`);
  }
  checkManifest(manifest);
  const weights = bins.length === 1 ? bins[0] : bins.find((bin) => bin.name === manifest.weights.file);
  if (!weights) throw new WeightsError(`Of the ${bins.length} .bin files chosen, none is ${manifest.weights.file}, the manifest's weights file.`);
  return decodeConvnet(manifest, await weights.arrayBuffer());
}

const megabytes = (bytes) => `${(bytes / 1024 ** 2).toLocaleString("en", { maximumFractionDigits: 1 })} MB`;

async function fetched(url, fetchImpl, what) {
  let response;
  try {
    response = await fetchImpl(url);
  } catch (error) {
    throw new WeightsError(`The ${what} could not be loaded (${error.message}).`);
  }
  if (!response.ok) throw new WeightsError(`The ${what} could not be loaded: the server answered ${response.status} for ${url}.`);
  return response;
}

/** The test digits the manifest lists, as one Uint8Array of count·28·28 values, refused unless they are its file. */
export function decodeDigits(manifest, buffer) {
  checkFile(buffer, manifest.digits, "test digits file");
  return new Uint8Array(buffer);
}

/** Fetch the manifest at `manifestUrl` and the files it names, check them all, and return
 * { net, digits }: the network and the test digits (null for an export without them). */
export async function loadConvnet(manifestUrl, fetchImpl = fetch) {
  const manifestResponse = await fetched(manifestUrl, fetchImpl, "network's manifest");
  let manifest;
  try {
    manifest = await manifestResponse.json();
  } catch {
    throw new WeightsError("The network's manifest is not valid JSON.");
  }
  checkManifest(manifest);
  const base = new URL(manifestUrl, globalThis.location?.href);
  const bytes = async (entry, what) => (await fetched(new URL(entry.file, base).href, fetchImpl, what)).arrayBuffer();
  const [weights, digits] = await Promise.all([bytes(manifest.weights, "network's weights file"),
    manifest.digits ? bytes(manifest.digits, "test digits file") : null]);
  return { net: decodeConvnet(manifest, weights), digits: digits && decodeDigits(manifest, digits) };
}

// --8<-- [start:conv2d]
/** A convolution of an (h, w, c) map with an (kh, kw, c, f) kernel, channels last ("same" padding reads zeros
 * outside the map): the sums before the activation and the values after it. */
function conv2d(x, [h, w, c], { kernel, bias }, layer) {
  const [kh, kw] = layer.kernel_size;
  const [sy, sx] = layer.strides;
  const rows = padding(h, kh, sy, layer.padding);
  const columns = padding(w, kw, sx, layer.padding);
  const [oh, ow, f] = [rows.out, columns.out, layer.filters];
  const pre = new Float32Array(oh * ow * f);
  const sums = new Float64Array(f);
  for (let oy = 0; oy < oh; oy++) {
    const top = oy * sy - rows.before;
    const kyFrom = Math.max(0, -top);
    const kyTo = Math.min(kh, h - top);
    for (let ox = 0; ox < ow; ox++) {
      const left = ox * sx - columns.before;
      const kxFrom = Math.max(0, -left);
      const kxTo = Math.min(kw, w - left);
      sums.set(bias);
      for (let ky = kyFrom; ky < kyTo; ky++) {
        for (let kx = kxFrom; kx < kxTo; kx++) {
          const pixel = ((top + ky) * w + left + kx) * c;
          const tap = (ky * kw + kx) * c * f;
          for (let ci = 0; ci < c; ci++) {
            const value = x[pixel + ci];
            if (value === 0) continue; // most inputs are zero after a ReLU: their products add nothing
            const row = tap + ci * f;
            for (let co = 0; co < f; co++) sums[co] += value * kernel[row + co];
          }
        }
      }
      pre.set(sums, (oy * ow + ox) * f);
    }
  }
  return { pre, data: activate(pre, layer.activation), shape: [oh, ow, f] };
}
// --8<-- [end:conv2d]

/** The values after an activation: ReLU sets negatives to 0; softmax subtracts the largest first; linear keeps them. */
function activate(pre, activation) {
  if (activation === "relu") return pre.map((v) => (v < 0 ? 0 : v));
  if (activation !== "softmax") return pre;
  let largest = -Infinity;
  for (const v of pre) largest = Math.max(largest, v);
  const exps = Float64Array.from(pre, (v) => Math.exp(v - largest));
  const total = exps.reduce((a, b) => a + b, 0);
  return Float32Array.from(exps, (v) => v / total);
}

/** Max or average pooling, channels last; "same" padding leaves the padded positions out of the window (the
 * average divides by the real inputs only, as Keras does). */
function pool2d(x, [h, w, c], layer) {
  const [ph, pw] = layer.pool_size;
  const [sy, sx] = layer.strides;
  const rows = padding(h, ph, sy, layer.padding);
  const columns = padding(w, pw, sx, layer.padding);
  const [oh, ow] = [rows.out, columns.out];
  const average = layer.type === "AveragePooling2D";
  const out = new Float32Array(oh * ow * c);
  const acc = new Float64Array(c);
  for (let oy = 0; oy < oh; oy++) {
    const yFrom = Math.max(0, oy * sy - rows.before);
    const yTo = Math.min(h, oy * sy - rows.before + ph);
    for (let ox = 0; ox < ow; ox++) {
      const xFrom = Math.max(0, ox * sx - columns.before);
      const xTo = Math.min(w, ox * sx - columns.before + pw);
      acc.fill(average ? 0 : -Infinity);
      for (let iy = yFrom; iy < yTo; iy++) {
        for (let ix = xFrom; ix < xTo; ix++) {
          const pixel = (iy * w + ix) * c;
          if (average) for (let ci = 0; ci < c; ci++) acc[ci] += x[pixel + ci];
          else for (let ci = 0; ci < c; ci++) if (x[pixel + ci] > acc[ci]) acc[ci] = x[pixel + ci];
        }
      }
      const count = average ? (yTo - yFrom) * (xTo - xFrom) : 1;
      const base = (oy * ow + ox) * c;
      for (let ci = 0; ci < c; ci++) out[base + ci] = acc[ci] / count;
    }
  }
  return { data: out, shape: [oh, ow, c] };
}

/** The mean of each channel over the whole map. */
function globalAveragePool(x, [h, w, c]) {
  const sums = new Float64Array(c);
  for (let i = 0; i < h * w; i++) for (let ci = 0; ci < c; ci++) sums[ci] += x[i * c + ci];
  return { data: Float32Array.from(sums, (v) => v / (h * w)), shape: [c] };
}

/** A dense layer on a flat vector: the sums before the activation and the values after it. */
function dense(x, { kernel, bias }, layer) {
  const units = layer.units;
  const sums = Float64Array.from(bias);
  for (let i = 0; i < x.length; i++) {
    const value = x[i];
    if (value === 0) continue;
    const row = i * units;
    for (let j = 0; j < units; j++) sums[j] += value * kernel[row + j];
  }
  const pre = Float32Array.from(sums);
  return { pre, data: activate(pre, layer.activation), shape: [units] };
}

/** Every layer's output for one input image (h·w·c values, already scaled as in training), in layer order;
 * Conv2D and Dense outputs also hold `pre`, the values before the activation. */
export function forward(net, input) {
  const expected = product(net.inputShape);
  if (input.length !== expected) throw new WeightsError(`The network takes ${expected} input values, not ${input.length}.`);
  let x = Float32Array.from(input);
  let shape = net.inputShape;
  const outputs = [];
  for (const layer of net.layers) {
    let result;
    if (layer.type === "Conv2D") result = conv2d(x, shape, layer.params, layer);
    else if (layer.type === "MaxPooling2D" || layer.type === "AveragePooling2D") result = pool2d(x, shape, layer);
    else if (layer.type === "GlobalAveragePooling2D") result = globalAveragePool(x, shape);
    else if (layer.type === "Flatten") result = { data: x, shape: [x.length] }; // channels last: already Keras's order
    else if (layer.type === "Dropout") result = { data: x, shape }; // the identity at inference
    else result = dense(x, layer.params, layer);
    const output = { name: layer.name, type: layer.type, shape: result.shape, data: result.data };
    if (result.pre) output.pre = result.pre;
    outputs.push(output);
    ({ data: x, shape } = result);
  }
  return outputs;
}

/** The index of the largest value. */
export function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** For each layer with a window (convolution or pooling), the input region one of its units sees: its side
 * `size`, the input pixels `jump` between neighbouring units, and `start`, the input row (and column) that unit
 * (0, 0) starts at, negative where "same" padding hangs over the edge: [{ index, size, jump, start }], in layer
 * order. Rows and columns alike (the page's windows are square). */
export function receptiveFields(net) {
  const fields = [];
  let size = 1;
  let jump = 1;
  let start = 0;
  let side = net.inputShape[0];
  net.layers.forEach((layer, index) => {
    if (!WINDOWED.includes(layer.type)) return;
    const window = windowOf(layer)[0];
    const axis = padding(side, window, layer.strides[0], layer.padding);
    start -= axis.before * jump;
    size += (window - 1) * jump;
    jump *= layer.strides[0];
    side = axis.out;
    fields.push({ index, size, jump, start });
  });
  return fields;
}

/** The input rows and columns that unit (row, column) of layer `index` sees: { top, left, size } (top and left
 * may be negative, or the region may pass the far edge, with "same" padding: clip it when drawing). */
export function receptiveField(net, index, row, column) {
  const field = receptiveFields(net).find((f) => f.index === index);
  if (!field) throw new WeightsError(`Layer ${index} has no spatial window.`);
  return { top: field.start + row * field.jump, left: field.start + column * field.jump, size: field.size };
}
