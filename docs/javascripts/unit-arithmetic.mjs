// The arithmetic behind one unit of the playground's network: the patch, kernel, products and sums of a
// convolution, the window of a pooling unit, the terms of a dense unit. Computed again for that one unit from
// the layer's input, in the layer's own settings, so that the panel shows numbers it did not merely look up.
// Plain JavaScript with no DOM, so that Node checks it against Keras (tests/js/unit-arithmetic.test.mjs).

import { padding } from "./convnet.mjs";

const SPATIAL = ["Conv2D", "MaxPooling2D", "AveragePooling2D"];

/** The activation of a Conv2D or Dense unit, by its manifest name (softmax is the Dense layer's, not one unit's). */
const activate = (activation, pre) => (activation === "relu" ? Math.max(pre, 0) : pre);

/** The layer's input: its data and (h, w, c) or (n,) shape. */
function layerInput(net, input, outputs, index) {
  return index === 0 ? { data: input, shape: net.inputShape } : outputs[index - 1];
}

/** Refuse a unit that the layer's output does not have, with one sentence. */
function checkUnit(layer, shape, unit) {
  const inside = (value, size) => Number.isInteger(value) && value >= 0 && value < size;
  const ok = shape.length === 3
    ? inside(unit.row, shape[0]) && inside(unit.column, shape[1]) && inside(unit.channel, shape[2])
    : inside(unit.channel, shape[0]);
  if (!ok) {
    throw new RangeError(`Layer ${layer.name} has no unit ${JSON.stringify(unit)}: its output is ${shape.join("×")}.`);
  }
}

/** The window of a spatial unit in its input's coordinates: { top, left } (negative where "same" pads before). */
function windowOrigin(layer, [h, w], [kh, kw], unit) {
  const [sy, sx] = layer.strides;
  return {
    top: unit.row * sy - padding(h, kh, sy, layer.padding).before,
    left: unit.column * sx - padding(w, kw, sx, layer.padding).before,
  };
}

/** A convolution unit: each input channel's patch, kernel slice, products and sum, largest |sum| first. */
function convolution(layer, { data, shape: [h, w, c] }, unit) {
  const [kh, kw] = layer.kernel_size;
  const f = layer.filters;
  const { top, left } = windowOrigin(layer, [h, w], [kh, kw], unit);
  const { kernel, bias: biases } = layer.params;
  const contributions = [];
  let total = 0;
  for (let channel = 0; channel < c; channel++) {
    const patch = [];
    const weights = [];
    const products = [];
    let sum = 0;
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const y = top + ky;
        const x = left + kx;
        const value = y >= 0 && y < h && x >= 0 && x < w ? data[(y * w + x) * c + channel] : 0;
        const weight = kernel[((ky * kw + kx) * c + channel) * f + unit.channel];
        patch.push(value);
        weights.push(weight);
        products.push(value * weight);
        sum += products.at(-1);
      }
    }
    total += sum;
    contributions.push({ channel, patch, kernel: weights, products, sum });
  }
  contributions.sort((a, b) => Math.abs(b.sum) - Math.abs(a.sum));
  const bias = biases[unit.channel];
  const pre = total + bias;
  return { type: layer.type, unit, top, left, size: [kh, kw], bias, contributions, total, pre,
    activation: layer.activation, value: activate(layer.activation, pre) };
}

/** A pooling unit: its window (null on the padding), and the largest value and where it is, or the mean. */
function pooling(layer, { data, shape: [h, w, c] }, unit) {
  const [ph, pw] = layer.pool_size;
  const { top, left } = windowOrigin(layer, [h, w], [ph, pw], unit);
  const window = [];
  let maxAt = null;
  let largest = -Infinity;
  let total = 0;
  let count = 0;
  for (let py = 0; py < ph; py++) {
    for (let px = 0; px < pw; px++) {
      const y = top + py;
      const x = left + px;
      if (y < 0 || y >= h || x < 0 || x >= w) {
        window.push(null);
        continue;
      }
      const value = data[(y * w + x) * c + unit.channel];
      window.push(value);
      total += value;
      count += 1;
      if (value > largest) {
        largest = value;
        maxAt = { row: y, column: x };
      }
    }
  }
  const result = { type: layer.type, unit, top, left, size: [ph, pw], window };
  if (layer.type === "MaxPooling2D") return { ...result, maxAt, value: largest };
  return { ...result, count, total, value: total / count };
}

/** A global average pooling unit: the mean of its whole input map. */
function globalAverage(layer, { data, shape: [h, w, c] }, unit) {
  let total = 0;
  for (let i = unit.channel; i < data.length; i += c) total += data[i];
  return { type: layer.type, unit, count: h * w, total, value: total / (h * w) };
}

/** The shape (h, w, c) of the spatial map that a Flatten before layer `index` flattens, or null if there is none. */
function flattenedShape(net, outputs, index) {
  let j = index - 1;
  while (j >= 0 && net.layers[j].type === "Dropout") j--;
  if (j < 0 || net.layers[j].type !== "Flatten") return null;
  j--;
  while (j >= 0 && net.layers[j].type === "Dropout") j--;
  const shape = j < 0 ? net.inputShape : outputs[j].shape;
  return shape.length === 3 ? shape : null;
}

/** A dense unit: every weight × input term, largest |product| first, grouped by the flattened map's channel. */
function dense(net, layer, { data }, outputs, index, unit) {
  const units = layer.units;
  const { kernel, bias: biases } = layer.params;
  const spatial = flattenedShape(net, outputs, index);
  const c = spatial ? spatial[2] : 0;
  const w = spatial ? spatial[1] : 0;
  const sums = spatial ? new Float64Array(c) : null;
  const terms = new Array(data.length);
  let total = 0;
  for (let i = 0; i < data.length; i++) {
    const weight = kernel[i * units + unit.channel];
    const product = data[i] * weight;
    total += product;
    let position = null;
    if (spatial) {
      const channel = i % c;
      const pixel = (i - channel) / c;
      position = { row: Math.floor(pixel / w), column: pixel % w, channel };
      sums[channel] += product;
    }
    terms[i] = { index: i, input: data[i], weight, product, position };
  }
  terms.sort((a, b) => Math.abs(b.product) - Math.abs(a.product));
  const groups = spatial ? Array.from(sums, (sum, channel) => ({ channel, sum })) : [];
  groups.sort((a, b) => Math.abs(b.sum) - Math.abs(a.sum));
  const bias = biases[unit.channel];
  const pre = total + bias;
  const result = { type: layer.type, unit, bias, terms, groups, total, pre, activation: layer.activation };
  if (layer.activation !== "softmax") return { ...result, value: activate(layer.activation, pre) };
  const logits = new Float64Array(units);
  const probabilities = new Float64Array(units);
  logits.set(biases);
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0) continue;
    for (let j = 0; j < units; j++) logits[j] += data[i] * kernel[i * units + j];
  }
  logits[unit.channel] = pre; // the same sum to the last bit, so that the panel's logit and its softmax agree
  const largest = Math.max(...logits);
  let norm = 0;
  logits.forEach((logit, j) => { probabilities[j] = Math.exp(logit - largest); norm += probabilities[j]; });
  probabilities.forEach((p, j) => { probabilities[j] = p / norm; });
  const value = probabilities[unit.channel];
  return { ...result, logits: Array.from(logits), probabilities: Array.from(probabilities), value };
}

/** The arithmetic of one unit of layer `index` (`unit`: { channel, row, column }, or { channel } for a vector),
 * from the network's input (scaled) and `outputs`, the forward pass of that input. */
export function unitArithmetic(net, input, outputs, index, unit) {
  const layer = net.layers[index];
  if (!layer) throw new RangeError(`The network has no layer ${index}.`);
  checkUnit(layer, outputs[index].shape, unit);
  const source = layerInput(net, input, outputs, index);
  if (layer.type === "Conv2D") return convolution(layer, source, unit);
  if (layer.type === "MaxPooling2D" || layer.type === "AveragePooling2D") return pooling(layer, source, unit);
  if (layer.type === "GlobalAveragePooling2D") return globalAverage(layer, source, unit);
  if (layer.type === "Dense") return dense(net, layer, source, outputs, index, unit);
  throw new RangeError(`Layer ${layer.name} (${layer.type}) computes nothing of its own: it passes its input on.`);
}

/** A number to `digits` decimals, without the minus sign of a value that rounds to zero. */
export const fixed = (value, digits = 3) => (Math.abs(value) < 0.5 * 10 ** -digits ? 0 : value).toFixed(digits);
/** The end of a sentence: what the activation makes of the value before it. */
const activated = (activation, value) => (activation === "relu" ? `, ReLU gives ${fixed(value)}.` : ".");

/** One sentence that says what a unit computed, for a screen reader (`layerLabel`: "Conv2D 1"). */
export function describeArithmetic(result, layerLabel) {
  const { type, unit } = result;
  const map = `map ${unit.channel + 1} in layer ${layerLabel}`;
  const where = SPATIAL.includes(type) ? `Unit (row ${unit.row}, column ${unit.column}) of ${map}` : null;
  if (type === "Conv2D") {
    return `${where}: sum ${fixed(result.total)} plus bias ${fixed(result.bias)} gives ${fixed(result.pre)}` +
      activated(result.activation, result.value);
  }
  if (type === "MaxPooling2D") {
    const count = result.window.filter((value) => value !== null).length;
    return `${where}: the largest of ${count} values, ${fixed(result.value)}, from input row ${result.maxAt.row}, ` +
      `column ${result.maxAt.column}.`;
  }
  if (type === "AveragePooling2D") {
    return `${where}: the mean of ${result.count} values, sum ${fixed(result.total)} divided by ${result.count} ` +
      `gives ${fixed(result.value)}.`;
  }
  if (type === "GlobalAveragePooling2D") {
    return `Unit ${unit.channel + 1} in layer ${layerLabel}: the mean of the ${result.count} values of map ` +
      `${unit.channel + 1}, ${fixed(result.value)}.`;
  }
  const softmax = result.activation === "softmax";
  const start = `${softmax ? `Class ${unit.channel}` : `Unit ${unit.channel + 1}`} in layer ${layerLabel}: ` +
    `sum ${fixed(result.total)} plus bias ${fixed(result.bias)} gives`;
  if (softmax) {
    return `${start} logit ${fixed(result.pre)}, softmax gives ${(100 * result.value).toFixed(1)}%.`;
  }
  return `${start} ${fixed(result.pre)}${activated(result.activation, result.value)}`;
}
