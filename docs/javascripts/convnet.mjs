// The playground's network: reads the manifest and weights file that code/convnets/export.py writes, checks
// them, and runs the forward pass one layer at a time, keeping every layer's output. Plain JavaScript on
// Float32Arrays, with no browser API but fetch, so that Node imports it too (tests/js/convnet.test.mjs checks
// it against Keras).

import { sha256Hex } from "./sha256.mjs";

export const FORMAT = "convnets-browser-weights/1";
const LAYER_TYPES = ["Conv2D", "MaxPooling2D", "Flatten", "Dense"];
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Why the network cannot run: a file missing, cut short, changed or not of this format. */
export class WeightsError extends Error {
  constructor(message) {
    super(message);
    this.name = "WeightsError";
  }
}

const product = (shape) => shape.reduce((a, b) => a * b, 1);

/** Refuse a manifest this module cannot run, with one sentence that says why. */
export function checkManifest(manifest) {
  if (!manifest || manifest.format !== FORMAT) {
    throw new WeightsError(`The network's manifest is not in the format this page reads (${FORMAT}).`);
  }
  let count = 0;
  for (const layer of manifest.layers) {
    if (!LAYER_TYPES.includes(layer.type)) throw new WeightsError(`This page cannot run the network’s ${layer.type} layer ${layer.name}.`);
    for (const weight of layer.weights) {
      if (weight.offset !== count) throw new WeightsError(`The manifest places ${layer.name}'s ${weight.name} at an unexpected offset.`);
      count += product(weight.shape);
    }
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

/** The network from its manifest and the bytes of its weights file, refused unless they are what the manifest says. */
export function decodeConvnet(manifest, buffer) {
  checkManifest(manifest);
  checkFile(buffer, manifest.weights, "weights file");
  const flat = float32s(buffer);
  const layers = manifest.layers.map((layer) => {
    const params = {};
    for (const weight of layer.weights) params[weight.name] = flat.subarray(weight.offset, weight.offset + product(weight.shape));
    return { ...layer, params };
  });
  return { manifest, layers, inputShape: manifest.input_shape };
}

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
 * { net, digits }: the network and the test digits. */
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
    bytes(manifest.digits, "test digits file")]);
  return { net: decodeConvnet(manifest, weights), digits: decodeDigits(manifest, digits) };
}

// --8<-- [start:conv2d]
/** A valid convolution of an (h, w, c) map with an (kh, kw, c, f) kernel, channels last, then the activation. */
function conv2d(x, [h, w, c], { kernel, bias }, layer) {
  const [kh, kw] = layer.kernel_size;
  const [sy, sx] = layer.strides;
  const f = layer.filters;
  const oh = Math.floor((h - kh) / sy) + 1;
  const ow = Math.floor((w - kw) / sx) + 1;
  const out = new Float32Array(oh * ow * f);
  const sums = new Float64Array(f);
  const relu = layer.activation === "relu";
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      sums.set(bias);
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          const pixel = ((oy * sy + ky) * w + ox * sx + kx) * c;
          const tap = (ky * kw + kx) * c * f;
          for (let ci = 0; ci < c; ci++) {
            const value = x[pixel + ci];
            if (value === 0) continue; // most inputs are zero after a ReLU: their products add nothing
            const row = tap + ci * f;
            for (let co = 0; co < f; co++) sums[co] += value * kernel[row + co];
          }
        }
      }
      const base = (oy * ow + ox) * f;
      for (let co = 0; co < f; co++) out[base + co] = relu && sums[co] < 0 ? 0 : sums[co];
    }
  }
  return { data: out, shape: [oh, ow, f] };
}
// --8<-- [end:conv2d]

/** Max pooling without padding, channels last. */
function maxPool2d(x, [h, w, c], layer) {
  const [ph, pw] = layer.pool_size;
  const [sy, sx] = layer.strides;
  const oh = Math.floor((h - ph) / sy) + 1;
  const ow = Math.floor((w - pw) / sx) + 1;
  const out = new Float32Array(oh * ow * c).fill(-Infinity);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      const base = (oy * ow + ox) * c;
      for (let py = 0; py < ph; py++) {
        for (let px = 0; px < pw; px++) {
          const pixel = ((oy * sy + py) * w + ox * sx + px) * c;
          for (let ci = 0; ci < c; ci++) if (x[pixel + ci] > out[base + ci]) out[base + ci] = x[pixel + ci];
        }
      }
    }
  }
  return { data: out, shape: [oh, ow, c] };
}

/** A dense layer on a flat vector, then its activation (softmax subtracts the largest logit first). */
function dense(x, { kernel, bias }, layer) {
  const units = layer.units;
  const sums = Float64Array.from(bias);
  for (let i = 0; i < x.length; i++) {
    const value = x[i];
    if (value === 0) continue;
    const row = i * units;
    for (let j = 0; j < units; j++) sums[j] += value * kernel[row + j];
  }
  if (layer.activation === "relu") sums.forEach((v, j) => { sums[j] = Math.max(v, 0); });
  if (layer.activation === "softmax") {
    const largest = Math.max(...sums);
    let total = 0;
    sums.forEach((v, j) => { sums[j] = Math.exp(v - largest); total += sums[j]; });
    sums.forEach((v, j) => { sums[j] = v / total; });
  }
  return { data: Float32Array.from(sums), shape: [units] };
}

/** Every layer's output for one input image (h·w·c values, already scaled as in training), in layer order. */
export function forward(net, input) {
  const expected = product(net.inputShape);
  if (input.length !== expected) throw new WeightsError(`The network takes ${expected} input values, not ${input.length}.`);
  let x = Float32Array.from(input);
  let shape = net.inputShape;
  const outputs = [];
  for (const layer of net.layers) {
    let result;
    if (layer.type === "Conv2D") result = conv2d(x, shape, layer.params, layer);
    else if (layer.type === "MaxPooling2D") result = maxPool2d(x, shape, layer);
    else if (layer.type === "Flatten") result = { data: x, shape: [x.length] }; // channels last: already Keras's order
    else result = dense(x, layer.params, layer);
    outputs.push({ name: layer.name, type: layer.type, shape: result.shape, data: result.data });
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

/** For each layer with a window (convolution or pooling), the side of the input region one of its units sees
 * and the input pixels between neighbouring units: [{ index, size, jump }], in layer order. */
export function receptiveFields(net) {
  const fields = [];
  let size = 1;
  let jump = 1;
  net.layers.forEach((layer, index) => {
    const window = layer.type === "Conv2D" ? layer.kernel_size[0] : layer.type === "MaxPooling2D" ? layer.pool_size[0] : null;
    if (window === null) return;
    size += (window - 1) * jump;
    jump *= layer.strides[0];
    fields.push({ index, size, jump });
  });
  return fields;
}

/** The input rows and columns that unit (row, column) of layer `index` sees: { top, left, size }. */
export function receptiveField(net, index, row, column) {
  const field = receptiveFields(net).find((f) => f.index === index);
  if (!field) throw new WeightsError(`Layer ${index} has no spatial window.`);
  return { top: row * field.jump, left: column * field.jump, size: field.size };
}
