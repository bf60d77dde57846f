// The playground (docs/playground.md): the reader draws a digit, or picks a test digit, and sees what a trained
// convnet makes of it: the 28×28 image it receives, every feature map of every convolution and pooling layer, and
// the ten class probabilities. Selecting a unit of a map (a click, or the keyboard) marks the part of the input it
// sees and opens the arithmetic that gave its value; selecting a class does the same for its probability. The
// network is the book's, or one the reader exports and loads from their own disk. The arithmetic lives in
// convnet.mjs, unit-arithmetic.mjs and digit-image.mjs, which Node checks against Keras; this module draws.
// Plain DOM and canvas; nothing runs until a network's files have passed their checks.

import { argmax, forward, loadConvnet, readModelFiles, receptiveField } from "./convnet.mjs";
import { FRAME, prepareDrawing } from "./digit-image.mjs";
import { across, arithmeticPanel, number, percent } from "./arithmetic-panel.mjs";
import { describeArithmetic, unitArithmetic } from "./unit-arithmetic.mjs";
import { make, mountEvery } from "./widgets.mjs";

const PAD = 280; // side of the drawing pad, in canvas pixels: 10 per input pixel
const STROKE = 20; // pen width on the pad: about 2 input pixels once the digit is fitted into its 20×20 box
const HINT = "Draw a digit in the box, or pick a test digit: the network’s reading appears here.";
const PANEL_HINT = "Select a unit of a feature map, or a class among the probabilities, to see the arithmetic " +
  "that gives its value.";
const MAPPED = ["Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D"]; // layers drawn as maps
const CLASSES = 10;


/** The colour of ink in the current scheme, as [r, g, b]. */
function inkColour(element) {
  const probe = make("span", { style: "color: var(--md-default-fg-color); display: none" });
  element.append(probe);
  const [r, g, b] = getComputedStyle(probe).color.match(/\d+(\.\d+)?/g).map(Number);
  probe.remove();
  return [r, g, b];
}

/** Paint `values` (row by row, 0 to 1 of `largest`) into an ImageData as ink of colour `ink`. */
function paint(image, values, largest, ink, at = (i) => i) {
  for (let i = 0; i < values.length; i++) {
    const o = 4 * at(i);
    image.data[o] = ink[0];
    image.data[o + 1] = ink[1];
    image.data[o + 2] = ink[2];
    image.data[o + 3] = Math.round((255 * Math.max(values[i], 0)) / largest);
  }
}

/** Each layer's short name: its type, numbered ("Conv2D 2") when the network has more than one of that type. */
export function layerLabels(layers) {
  const totals = {};
  const seen = {};
  for (const { type } of layers) totals[type] = (totals[type] ?? 0) + 1;
  return layers.map(({ type }) => {
    seen[type] = (seen[type] ?? 0) + 1;
    return totals[type] > 1 ? `${type} ${seen[type]}` : type;
  });
}

const ACTIVATIONS = { relu: "ReLU", linear: "no activation", softmax: "softmax" };
const stride = ([sy, sx]) => (sy === sx ? `stride ${sy}` : `strides ${sy}×${sx}`);
const samePadding = (layer) => (layer.padding === "same" ? ", “same” padding" : "");

/** How a layer is named on the page, from its label: "Conv2D 2: 64 filters of 3×3, ReLU". */
export function layerTitle(layer, label) {
  const activation = ACTIVATIONS[layer.activation] ?? layer.activation;
  switch (layer.type) {
    case "Conv2D": {
      const strided = layer.strides.some((s) => s !== 1) ? `, ${stride(layer.strides)}` : "";
      return `${label}: ${layer.filters} filters of ${across(layer.kernel_size)}${strided}${samePadding(layer)}, ${activation}`;
    }
    case "MaxPooling2D":
      return `${label}: ${across(layer.pool_size)} windows, ${stride(layer.strides)}${samePadding(layer)}`;
    case "AveragePooling2D":
      return `${label}: means of ${across(layer.pool_size)} windows, ${stride(layer.strides)}${samePadding(layer)}`;
    case "GlobalAveragePooling2D":
      return `${label}: the mean of each map`;
    case "Flatten":
      return `${label}: every map’s values in one row of ${number(layer.output_shape[0])}`;
    case "Dropout":
      return `${label}: passes its input on unchanged (it drops values only during training)`;
    case "Dense":
      return `${label}: ${layer.units} units, ${activation}`;
    default:
      return label;
  }
}

/** Where each feature map of an (h, w, c) output sits on its canvas: columns of maps, 1 pixel apart. */
export function mapLayout([h, w, c]) {
  const columns = c <= 8 ? c : c <= 32 ? 8 : 16;
  const rows = Math.ceil(c / columns);
  return { h, w, c, columns, rows, width: columns * (w + 1) - 1, height: rows * (h + 1) - 1 };
}

/** The (channel, row, column) under canvas pixel (x, y), or null on the gaps between maps. */
export function unitAt(layout, x, y) {
  const tileX = Math.floor(x / (layout.w + 1));
  const tileY = Math.floor(y / (layout.h + 1));
  const column = Math.floor(x) - tileX * (layout.w + 1);
  const row = Math.floor(y) - tileY * (layout.h + 1);
  const channel = tileY * layout.columns + tileX;
  if (column >= layout.w || row >= layout.h || channel >= layout.c || tileX >= layout.columns || x < 0 || y < 0) return null;
  return { channel, row, column };
}

/** The part of the input a receptive field covers, clipped to the 28×28 frame: { top, left, bottom, right }
 * (the last row and column it covers). With "same" padding a field can hang over the frame's edge. */
export function visibleField({ top, left, size }) {
  return { top: Math.max(top, 0), left: Math.max(left, 0), bottom: Math.min(top + size, FRAME) - 1,
    right: Math.min(left + size, FRAME) - 1 };
}

/** The sentence that says what a selected unit is and what it sees. */
export function describeUnit(title, unit, value, field, channels) {
  const seen = visibleField(field);
  const clipped = seen.top !== field.top || seen.left !== field.left || seen.bottom !== field.top + field.size - 1 ||
    seen.right !== field.left + field.size - 1;
  const extent = clipped ? `a ${field.size}×${field.size} window, partly over the padding around the image`
    : `${field.size}×${field.size} pixels`;
  return `${title.split(":")[0]}, map ${unit.channel + 1} of ${channels}, unit (row ${unit.row}, column ${unit.column}) = ` +
    `${value.toFixed(2)}. It sees input rows ${seen.top} to ${seen.bottom} and columns ${seen.left} to ` +
    `${seen.right} (${extent}), marked on the network’s input.`;
}

/** A digit with its article: "a 7", "an 8". */
const digitWithArticle = (digit) => `${digit === 8 ? "an" : "a"} ${digit}`;

/** The verdict line: the class the network picks, or the two it hesitates between. */
export function verdict(probabilities) {
  const order = [...probabilities.keys()].sort((a, b) => probabilities[b] - probabilities[a]);
  const [first, second] = order;
  const named = (digit) => `${digitWithArticle(digit)} (${percent(probabilities[digit])})`;
  if (probabilities[first] >= 0.5) return `The network reads ${named(first)}.`;
  return `The network is unsure: ${named(first)} or ${named(second)}.`;
}

/** Why the page cannot show a network's reading, in one sentence, or null when it can: it draws ten class
 * probabilities, so the last layer must be a Dense layer of 10 units with softmax. */
export function unreadableEnding(net) {
  const last = net.layers.at(-1);
  if (last?.type === "Dense" && last.units === CLASSES && last.activation === "softmax") return null;
  return "This page shows networks whose last layer is a Dense layer of 10 units with softmax, one probability per " +
    `digit; this one ends in ${!last ? "no layer" : last.type === "Dense"
      ? `a Dense layer of ${last.units} units with ${ACTIVATIONS[last.activation] ?? last.activation}`
      : `a ${last.type} layer`}.`;
}

/** The layer before `index` whose output a layer reads, skipping Dropout and Flatten (which change no value):
 * its index, or -1 for the network's input. */
export function sourceLayer(layers, index) {
  let j = index - 1;
  while (j >= 0 && (layers[j].type === "Dropout" || layers[j].type === "Flatten")) j--;
  return j;
}

// --- The page ------------------------------------------------------------------------------------------------

/** The parts that do not depend on the network: the pad, the buttons, the input, the probabilities, the loader. */
function build(root, id) {
  const pad = make("canvas", { class: "convnet-playground__pad", width: PAD, height: PAD, role: "img",
    "aria-label": "Drawing pad: draw a digit here with a mouse, a finger or a pen" });
  const buttons = {
    clear: make("button", { type: "button", class: "md-button" }, "Clear"),
    previous: make("button", { type: "button", class: "md-button" }, "◀ Previous test digit"),
    next: make("button", { type: "button", class: "md-button" }, "Next test digit ▶"),
    misread: make("button", { type: "button", class: "md-button" }, "A digit it misreads"),
  };
  const source = make("p", { class: "convnet-playground__source", "aria-live": "polite" });
  const input = make("canvas", { class: "convnet-playground__input", width: FRAME, height: FRAME, "aria-hidden": "true" });
  const field = make("svg", { class: "convnet-playground__overlay", viewBox: `0 0 ${FRAME} ${FRAME}`, "aria-hidden": "true", focusable: "false" });
  const verdictLine = make("p", { class: "convnet-playground__verdict", "aria-live": "polite" }, HINT);
  const bars = make("ol", { class: "convnet-playground__bars", start: 0, "aria-label": "Class probabilities: pick one to see its arithmetic" });
  const barParts = Array.from({ length: CLASSES }, (_, digit) => {
    const fill = make("span", { class: "convnet-playground__fill" });
    const value = make("span", { class: "convnet-playground__value" });
    const choose = make("button", { type: "button", class: "convnet-playground__class", tabindex: digit === 0 ? 0 : -1,
      "aria-pressed": "false", "data-class": digit },
    make("span", { class: "convnet-playground__digit" }, String(digit)), make("span", { class: "convnet-playground__bar" }, fill), value);
    const item = make("li", {}, choose);
    bars.append(item);
    return { item, choose, fill, value };
  });
  const unitLine = make("p", { class: "convnet-playground__unit" },
    "Click a unit of any feature map, or focus a map and use the arrow keys, to mark what it sees on the input.");
  const title = make("p", { class: "convnet-playground__title", id: `${id}-title` });
  const layerList = make("p", { class: "convnet-playground__layers" });

  const files = make("input", { type: "file", id: `${id}-files`, class: "convnet-playground__file", multiple: "",
    accept: ".json,.bin" });
  const back = make("button", { type: "button", class: "md-button convnet-playground__back", hidden: "" }, "Back to the book’s model");
  const loadError = make("p", { class: "convnet-playground__error", role: "alert" });
  const drop = make("div", { class: "convnet-playground__drop" },
    make("p", { class: "convnet-playground__own", id: `${id}-own` }, "Load your own model"),
    make("p", { class: "convnet-playground__own-help" }, "Pick the manifest (.json) and the weights file (.bin) that ",
      make("code", {}, "convnets-export"), " wrote, both together, or drop them here. They stay on your computer."),
    make("div", { class: "convnet-playground__own-controls" },
      make("label", { class: "md-button convnet-playground__choose", for: `${id}-files` }, "Choose the two files"), files, back));
  const loader = make("section", { class: "convnet-playground__loader", "aria-labelledby": `${id}-own` }, drop, loadError);

  const panelBody = make("div", { class: "convnet-playground__panel-body" });
  const panelLine = make("p", { class: "convnet-playground__panel-line", "aria-live": "polite" }, PANEL_HINT);
  const panel = make("section", { class: "convnet-playground__panel", tabindex: 0, "aria-labelledby": `${id}-panel` },
    make("p", { class: "convnet-playground__panel-title", id: `${id}-panel` }, "The arithmetic of the selected unit"),
    panelLine, panelBody);
  const mapList = make("div", { class: "convnet-playground__map-list" });
  const mapsSection = make("div", { class: "convnet-playground__maps" }, make("div", { class: "convnet-playground__map-column" }, unitLine, mapList), panel);

  root.replaceChildren(
    title,
    layerList,
    make("div", { class: "convnet-playground__top" },
      make("figure", { class: "convnet-playground__drawing" }, pad,
        make("figcaption", {}, "Draw here: a mouse, a finger or a pen")),
      make("div", { class: "convnet-playground__side" },
        make("div", { class: "convnet-playground__buttons", role: "group", "aria-label": "Input" }, ...Object.values(buttons)),
        source,
        make("div", { class: "convnet-playground__result" },
          make("figure", { class: "convnet-playground__seen" },
            make("div", { class: "convnet-playground__frame" }, input, field),
            make("figcaption", {}, "What the network receives: 28×28")),
          make("div", { class: "convnet-playground__prediction" }, verdictLine, bars)),
      ),
    ),
    loader,
    mapsSection,
  );
  root.setAttribute("role", "region");
  root.setAttribute("aria-labelledby", title.id);
  return { pad, buttons, source, input, field, verdictLine, bars, barParts, unitLine, title, layerList, files, back,
    loadError, drop, panel, panelLine, panelBody, mapList, mapsSection, maps: [] };
}

/** One canvas per mapped layer of `net`, every channel of its output as a small map. */
function buildMaps(net, labels) {
  return net.layers.flatMap((layer, index) => {
    if (!MAPPED.includes(layer.type)) return [];
    const title = layerTitle(layer, labels[index]);
    const shape = layer.output_shape.length === 3 ? layer.output_shape : [1, 1, layer.output_shape[0]];
    const layout = mapLayout(shape);
    const canvas = make("canvas", { width: layout.width, height: layout.height });
    const overlay = make("svg", { class: "convnet-playground__overlay", viewBox: `0 0 ${layout.width} ${layout.height}`,
      "aria-hidden": "true", focusable: "false" });
    const box = make("div", { class: "convnet-playground__map", tabindex: 0, role: "group",
      "aria-label": `${title}: ${layout.c} feature maps of ${layout.h}×${layout.w}. Arrow keys move within a map, ` +
        "Page Up and Page Down change map." }, canvas, overlay);
    const figure = make("figure", { class: "convnet-playground__layer" }, box,
      make("figcaption", {}, `${title}. Output ${layout.h}×${layout.w}×${layout.c}`));
    // Each cell of a map at least 2 screen pixels wide, the whole layer about 420 wide, less on a narrow screen.
    box.style.width = `min(100%, ${layout.width * Math.min(Math.max(Math.round(420 / layout.width), 2), 12)}px)`;
    return [{ index, title, label: labels[index], layout, canvas, overlay, box, figure }];
  });
}

/** Load the network named by the placeholder's data-manifest (relative to the page) and mount the playground. */
export async function mount(root) {
  if (root.dataset.state) return;
  root.dataset.state = "loading";
  let book, digits;
  try {
    ({ net: book, digits } = await loadConvnet(new URL(root.dataset.manifest, document.baseURI).href));
  } catch (error) {
    root.dataset.state = "error";
    root.replaceChildren(make("p", { class: "convnet-playground__message", role: "alert" },
      `The playground cannot run: ${error.message} Reload the page; if this stays, the site’s copy of the network is damaged.`));
    return;
  }
  const id = root.id || `convnet-playground-${document.querySelectorAll(".convnet-playground[data-state]").length}`;
  const parts = build(root, id);
  const padContext = parts.pad.getContext("2d", { willReadFrequently: true });
  const inputContext = parts.input.getContext("2d");
  const { labels: digitLabels, predicted: bookPredicted, test_indices: testIndices, count } = book.manifest.digits;
  let net = book;
  let labels = [];
  let ownPredicted = new Map(); // test digit → the loaded network's class, found when needed
  let ink = inkColour(root);
  let position = -1; // the test digit shown, -1 for none
  let drawnOver = false; // strokes added by the reader
  let outputs = null;
  let selected = null; // { map, channel, row, column } or { layer, channel } for a class
  let pending = false;

  const testDigit = (i) => Float32Array.from(digits.subarray(i * FRAME * FRAME, (i + 1) * FRAME * FRAME), (v) => v / 255);
  const predictedClass = (i) => {
    if (net === book) return bookPredicted[i];
    if (!ownPredicted.has(i)) ownPredicted.set(i, argmax(forward(net, testDigit(i)).at(-1).data));
    return ownPredicted.get(i);
  };
  const inputName = (index) => {
    const j = sourceLayer(net.layers, index);
    return j < 0 ? "the network’s input" : `layer ${labels[j]}`;
  };

  /** Show the arithmetic of the selected unit, timed from the selection to the panel's last element. */
  const showArithmetic = () => {
    const started = performance.now();
    if (!selected || !outputs) {
      parts.panelLine.textContent = PANEL_HINT;
      parts.panelBody.replaceChildren();
      delete root.dataset.panelLayer;
      return;
    }
    const index = selected.map === undefined ? selected.layer : parts.maps[selected.map].index;
    const unit = selected.map === undefined ? { channel: selected.channel }
      : { channel: selected.channel, row: selected.row, column: selected.column };
    const layer = net.layers[index];
    const result = unitArithmetic(net, root.convnetInput, outputs, index, unit);
    const j = sourceLayer(net.layers, index);
    const context = { id, layer, inputName: inputName(index), inputShape: j < 0 ? net.inputShape : net.layers[j].output_shape };
    parts.panelLine.textContent = describeArithmetic(result, labels[index]);
    parts.panelBody.replaceChildren(...arithmeticPanel(result, context));
    Object.assign(root.dataset, { panelLayer: index, panelMs: (performance.now() - started).toFixed(2) });
  };

  const showSelection = () => {
    parts.field.replaceChildren();
    for (const map of parts.maps) map.overlay.replaceChildren();
    parts.barParts.forEach(({ choose }, digit) => {
      const chosen = selected?.map === undefined && selected?.channel === digit;
      choose.setAttribute("aria-pressed", String(Boolean(chosen)));
    });
    for (const key of ["map", "channel", "row", "column", "fieldTop", "fieldLeft", "fieldSize", "selectedClass"]) delete root.dataset[key];
    if (!selected || !outputs) return showArithmetic();
    if (selected.map === undefined) {
      parts.unitLine.textContent = `Class ${selected.channel} selected: the panel shows how its probability is computed.`;
      root.dataset.selectedClass = selected.channel;
      return showArithmetic();
    }
    const map = parts.maps[selected.map];
    const { layout } = map;
    const { channel, row, column } = selected;
    const x = (channel % layout.columns) * (layout.w + 1) + column;
    const y = Math.floor(channel / layout.columns) * (layout.h + 1) + row;
    map.overlay.append(make("rect", { class: "convnet-playground__unit-mark", x, y, width: 1, height: 1 }));
    const layer = net.layers[map.index];
    const area = layer.type === "GlobalAveragePooling2D" ? { top: 0, left: 0, size: FRAME } : receptiveField(net, map.index, row, column);
    const seen = visibleField(area);
    parts.field.append(make("rect", { class: "convnet-playground__field", x: seen.left, y: seen.top,
      width: seen.right - seen.left + 1, height: seen.bottom - seen.top + 1 }));
    const value = outputs[map.index].data[(row * layout.w + column) * layout.c + channel];
    parts.unitLine.textContent = describeUnit(map.title, selected, value, area, layout.c);
    Object.assign(root.dataset, { map: map.index, channel, row, column, fieldTop: area.top, fieldLeft: area.left, fieldSize: area.size });
    showArithmetic();
  };

  const render = (image) => {
    const started = performance.now();
    outputs = forward(net, image);
    const forwardMs = performance.now() - started;
    const seen = inputContext.createImageData(FRAME, FRAME);
    paint(seen, image, 1, ink);
    inputContext.putImageData(seen, 0, 0);
    for (const map of parts.maps) {
      const { data } = outputs[map.index];
      const { layout } = map;
      const context = map.canvas.getContext("2d");
      const picture = context.createImageData(layout.width, layout.height);
      for (let i = 3; i < picture.data.length; i += 4) { picture.data[i - 3] = ink[0]; picture.data[i - 2] = ink[1]; picture.data[i - 1] = ink[2]; picture.data[i] = 40; }
      let largest = 1e-9;
      for (const value of data) if (value > largest) largest = value;
      // Output (row, column, channel) of the layer, at its map's place on the canvas.
      const at = (i) => {
        const channel = i % layout.c, cell = (i - channel) / layout.c;
        const row = Math.floor(cell / layout.w), column = cell % layout.w;
        return (Math.floor(channel / layout.columns) * (layout.h + 1) + row) * layout.width + (channel % layout.columns) * (layout.w + 1) + column;
      };
      paint(picture, data, largest, ink, at);
      context.putImageData(picture, 0, 0);
    }
    const probabilities = outputs[outputs.length - 1].data;
    const best = argmax(probabilities);
    parts.barParts.forEach(({ item, fill, value }, digit) => {
      fill.style.width = percent(probabilities[digit]);
      value.textContent = percent(probabilities[digit]);
      item.classList.toggle("convnet-playground__best", digit === best);
    });
    parts.verdictLine.textContent = verdict(probabilities);
    parts.bars.hidden = false;
    parts.mapsSection.hidden = false;
    root.convnetNet = net;
    root.convnetInput = image;
    root.convnetOutputs = outputs;
    showSelection();
    Object.assign(root.dataset, { state: "ok", predicted: best, probability: probabilities[best].toFixed(6),
      forwardMs: forwardMs.toFixed(2), renderMs: (performance.now() - started).toFixed(2), runs: Number(root.dataset.runs ?? 0) + 1 });
  };

  const showEmpty = () => {
    outputs = null;
    selected = null;
    inputContext.clearRect(0, 0, FRAME, FRAME);
    parts.field.replaceChildren();
    parts.verdictLine.textContent = HINT;
    parts.bars.hidden = true;
    parts.mapsSection.hidden = true;
    root.convnetInput = null;
    root.convnetOutputs = null;
    showSelection();
    for (const key of ["predicted", "probability"]) delete root.dataset[key];
    root.dataset.state = "empty";
  };

  // The pad's ink, from 0 to 1 (its alpha channel), made into the network's input.
  const update = () => {
    pending = false;
    if (position >= 0 && !drawnOver) return render(testDigit(position));
    const rgba = padContext.getImageData(0, 0, PAD, PAD).data;
    const alpha = new Float32Array(PAD * PAD);
    for (let i = 0; i < alpha.length; i++) alpha[i] = rgba[4 * i + 3] / 255;
    const prepared = prepareDrawing(alpha, PAD, PAD);
    if (!prepared) return showEmpty();
    render(prepared.image);
  };
  const schedule = () => {
    if (!pending) {
      pending = true;
      requestAnimationFrame(update);
    }
  };

  const showTestDigit = (i) => {
    position = (i + count) % count;
    drawnOver = false;
    const image = testDigit(position);
    const scale = PAD / FRAME; // each input pixel a scale × scale square of the pad
    const enlarged = Float32Array.from({ length: PAD * PAD },
      (_, i) => image[Math.floor(Math.floor(i / PAD) / scale) * FRAME + Math.floor((i % PAD) / scale)]);
    const big = padContext.createImageData(PAD, PAD);
    paint(big, enlarged, 1, ink);
    padContext.putImageData(big, 0, 0);
    const label = digitLabels[position];
    const note = label !== predictedClass(position) ? " The network misreads it." : "";
    parts.source.textContent = `Test digit ${number(testIndices[position])} of the test set, labelled ${label}.${note}`;
    root.dataset.source = `test:${testIndices[position]}`;
    update();
  };

  /** Put `next` in place of the current network: new maps, no selection, the same input run again. */
  const useNetwork = (next, description) => {
    net = next;
    labels = layerLabels(net.layers);
    ownPredicted = new Map();
    selected = null;
    parts.maps = buildMaps(net, labels);
    parts.mapList.replaceChildren(...parts.maps.map((m) => m.figure));
    parts.maps.forEach(listenToMap);
    parts.title.textContent = description;
    parts.layerList.textContent = `Its layers: ${net.layers.map((layer, index) => layerTitle(layer, labels[index])).join("; ")}.`;
    parts.back.hidden = net === book;
    root.dataset.model = net === book ? "book" : "own";
    if (position >= 0 && !drawnOver) showTestDigit(position);
    else update();
  };
  const bookDescription = `The book’s convnet, ${number(book.manifest.parameters)} parameters, ` +
    `${percent(book.manifest.test_accuracy)} on the test set`;
  const ownDescription = (manifest, name) => {
    const accuracy = manifest.test_accuracy === undefined ? "" : `, ${percent(manifest.test_accuracy)} on the test set`;
    return `Your model${manifest.model ? ` “${manifest.model}”` : ""} from ${name}, ${number(manifest.parameters)} parameters${accuracy}`;
  };

  // The reader's own model: read from the files they pick or drop, never sent anywhere.
  const loadOwn = async (files) => {
    parts.loadError.textContent = "";
    root.dataset.loading = "true";
    try {
      const own = await readModelFiles([...files]);
      const refusal = unreadableEnding(own);
      if (refusal) throw new Error(refusal);
      const manifestFile = [...files].find((file) => file.name.toLowerCase().endsWith(".json"));
      useNetwork(own, ownDescription(own.manifest, manifestFile.name));
      root.dataset.loads = Number(root.dataset.loads ?? 0) + 1;
    } catch (error) {
      parts.loadError.textContent = error.message;
      root.dataset.loadErrors = Number(root.dataset.loadErrors ?? 0) + 1;
    } finally {
      delete root.dataset.loading;
      parts.files.value = "";
    }
  };
  parts.files.addEventListener("change", () => { if (parts.files.files.length) loadOwn(parts.files.files); });
  parts.drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    parts.drop.classList.add("convnet-playground__drop--over");
  });
  parts.drop.addEventListener("dragleave", () => parts.drop.classList.remove("convnet-playground__drop--over"));
  parts.drop.addEventListener("drop", (event) => {
    event.preventDefault();
    parts.drop.classList.remove("convnet-playground__drop--over");
    loadOwn(event.dataTransfer.files);
  });
  parts.back.addEventListener("click", () => {
    parts.loadError.textContent = "";
    useNetwork(book, bookDescription);
    parts.files.focus();
  });

  parts.buttons.clear.addEventListener("click", () => {
    padContext.clearRect(0, 0, PAD, PAD);
    position = -1;
    drawnOver = false;
    parts.source.textContent = "";
    delete root.dataset.source;
    showEmpty();
  });
  parts.buttons.next.addEventListener("click", () => showTestDigit(position + 1));
  parts.buttons.previous.addEventListener("click", () => showTestDigit(position < 0 ? count - 1 : position - 1));
  parts.buttons.misread.addEventListener("click", () => {
    // The next test digit the current network misreads, after the one shown, wrapping around.
    for (let step = 1; step <= count; step++) {
      const i = (Math.max(position, -1) + step + count) % count;
      if (digitLabels[i] !== predictedClass(i)) return showTestDigit(i);
    }
    parts.source.textContent = `The network reads all ${count} test digits here correctly.`;
  });

  // Drawing: pointer events cover mice, fingers and pens; the network reruns at most once per frame.
  let last = null;
  const point = (event) => {
    const rect = parts.pad.getBoundingClientRect();
    return [((event.clientX - rect.left) * PAD) / rect.width, ((event.clientY - rect.top) * PAD) / rect.height];
  };
  const stroke = (from, to) => {
    padContext.strokeStyle = `rgb(${ink.join(" ")})`;
    padContext.lineWidth = STROKE;
    padContext.lineCap = "round";
    padContext.lineJoin = "round";
    padContext.beginPath();
    padContext.moveTo(...from);
    padContext.lineTo(...to);
    padContext.stroke();
  };
  parts.pad.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    parts.pad.setPointerCapture(event.pointerId);
    last = point(event);
    stroke(last, last);
    if (position >= 0 && !drawnOver) {
      drawnOver = true;
      parts.source.textContent = `Test digit ${number(testIndices[position])}, with your strokes added.`;
      root.dataset.source = "drawing";
    } else if (position < 0) {
      parts.source.textContent = "Your drawing.";
      root.dataset.source = "drawing";
    }
    schedule();
  });
  parts.pad.addEventListener("pointermove", (event) => {
    if (!last) return;
    for (const moved of event.getCoalescedEvents?.() ?? [event]) {
      const next = point(moved);
      stroke(last, next);
      last = next;
    }
    schedule();
  });
  const lift = () => { last = null; };
  parts.pad.addEventListener("pointerup", lift);
  parts.pad.addEventListener("pointercancel", lift);

  // Selecting a class: its bar, a click or Enter; the arrow keys move between the bars (one stop for Tab).
  parts.barParts.forEach(({ choose }, digit) => {
    choose.addEventListener("click", () => {
      if (!outputs) return;
      const layer = net.layers.length - 1;
      selected = { layer, channel: digit };
      parts.barParts.forEach((bar, d) => bar.choose.setAttribute("tabindex", d === digit ? 0 : -1));
      showSelection();
    });
    choose.addEventListener("keydown", (event) => {
      const step = { ArrowUp: -1, ArrowLeft: -1, ArrowDown: 1, ArrowRight: 1 }[event.key];
      if (!step) return;
      event.preventDefault();
      const next = parts.barParts[(digit + step + CLASSES) % CLASSES].choose;
      next.focus();
      next.click();
    });
  });

  // Selecting a unit: a click on a map, or the keyboard on a focused map.
  function listenToMap(map, m) {
    map.box.addEventListener("click", (event) => {
      if (!outputs) return;
      const rect = map.canvas.getBoundingClientRect();
      const unit = unitAt(map.layout, ((event.clientX - rect.left) * map.layout.width) / rect.width,
        ((event.clientY - rect.top) * map.layout.height) / rect.height);
      if (!unit) return;
      selected = { map: m, ...unit };
      showSelection();
    });
    map.box.addEventListener("keydown", (event) => {
      const moves = { ArrowLeft: [0, 0, -1], ArrowRight: [0, 0, 1], ArrowUp: [0, -1, 0], ArrowDown: [0, 1, 0],
        PageUp: [-1, 0, 0], PageDown: [1, 0, 0], Home: null };
      if (!(event.key in moves) || !outputs) return;
      event.preventDefault();
      const { h, w, c } = map.layout;
      const clamp = (value, n) => Math.min(Math.max(value, 0), n - 1);
      if (selected?.map !== m) selected = { map: m, channel: 0, row: 0, column: 0 }; // the first key selects a unit
      else if (event.key === "Home") selected = { ...selected, row: 0, column: 0 };
      else {
        const [dc, dr, dx] = moves[event.key];
        selected = { map: m, channel: clamp(selected.channel + dc, c), row: clamp(selected.row + dr, h),
          column: clamp(selected.column + dx, w) };
      }
      showSelection();
    });
  }

  // A change of colour scheme recolours the ink already drawn and redraws the outputs.
  const recolour = new MutationObserver(() => {
    if (!root.isConnected) return recolour.disconnect(); // instant navigation replaced the page
    ink = inkColour(root);
    const picture = padContext.getImageData(0, 0, PAD, PAD);
    for (let o = 0; o < picture.data.length; o += 4) { picture.data[o] = ink[0]; picture.data[o + 1] = ink[1]; picture.data[o + 2] = ink[2]; }
    padContext.putImageData(picture, 0, 0);
    if (outputs) render(root.convnetInput);
  });
  recolour.observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });

  useNetwork(book, bookDescription);
}

mountEvery(".convnet-playground[data-manifest]", mount);
