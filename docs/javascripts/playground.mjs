// The playground (docs/playground.md): the reader draws a digit, or picks a test digit, and sees what the
// chapters' trained convnet makes of it: the 28×28 image it receives, every feature map of every Conv2D and
// MaxPooling2D layer, and the ten class probabilities. Clicking a unit of a map, or moving to it with the
// keyboard, marks the part of the input it sees. The arithmetic lives in convnet.mjs and digit-image.mjs,
// which Node checks against Keras; this module draws. Plain DOM and canvas; nothing runs until the files
// the manifest names have passed their checks.

import { argmax, forward, loadConvnet, receptiveField, receptiveFields } from "./convnet.mjs";
import { FRAME, prepareDrawing } from "./digit-image.mjs";
import { make, mountEvery } from "./widgets.mjs";

const PAD = 280; // side of the drawing pad, in canvas pixels: 10 per input pixel
const STROKE = 20; // pen width on the pad: about 2 input pixels once the digit is fitted into its 20×20 box
const MAP_COLUMNS = { 32: 8, 64: 16, 128: 16 }; // feature maps per row, by channel count
const HINT = "Draw a digit in the box, or pick a test digit: the network’s reading appears here.";

const percent = (p) => `${(100 * p).toFixed(1)}%`;
const number = (n) => n.toLocaleString("en");

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

/** How a layer is named on the page: "Conv2D 2: 64 filters of 3×3, ReLU". */
export function layerTitle(layer, ordinal) {
  if (layer.type === "Conv2D") {
    const [k] = layer.kernel_size;
    return `Conv2D ${ordinal}: ${layer.filters} filters of ${k}×${k}, ${layer.activation === "relu" ? "ReLU" : layer.activation}`;
  }
  const [k] = layer.pool_size;
  return `MaxPooling2D ${ordinal}: ${k}×${k} windows, stride ${layer.strides[0]}`;
}

/** Where each feature map of an (h, w, c) output sits on its canvas: columns of maps, 1 pixel apart. */
export function mapLayout([h, w, c]) {
  const columns = MAP_COLUMNS[c] ?? Math.ceil(Math.sqrt(c));
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

/** The sentence that says what a selected unit is and what it sees. */
export function describeUnit(title, unit, value, field, channels) {
  const last = (start) => start + field.size - 1;
  return `${title.split(":")[0]}, map ${unit.channel + 1} of ${channels}, unit (row ${unit.row}, column ${unit.column}) = ` +
    `${value.toFixed(2)}. It sees input rows ${field.top} to ${last(field.top)} and columns ${field.left} to ` +
    `${last(field.left)} (${field.size}×${field.size} pixels), marked on the network’s input.`;
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

function build(root, net, manifest) {
  const id = root.id || `convnet-playground-${document.querySelectorAll(".convnet-playground[data-state]").length}`;
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
  const bars = make("ol", { class: "convnet-playground__bars", start: 0, "aria-label": "Class probabilities" });
  const barParts = Array.from({ length: 10 }, (_, digit) => {
    const fill = make("span", { class: "convnet-playground__fill" });
    const value = make("span", { class: "convnet-playground__value" });
    const item = make("li", {}, make("span", { class: "convnet-playground__digit" }, String(digit)),
      make("span", { class: "convnet-playground__bar" }, fill), value);
    bars.append(item);
    return { item, fill, value };
  });
  const unitLine = make("p", { class: "convnet-playground__unit", "aria-live": "polite" },
    "Click a unit of any feature map, or focus a map and use the arrow keys, to mark what it sees on the input.");

  // One canvas per Conv2D and MaxPooling2D layer, every channel of its output as a small map.
  const fields = receptiveFields(net);
  const counts = { Conv2D: 0, MaxPooling2D: 0 };
  const maps = fields.map(({ index }) => {
    const layer = net.layers[index];
    const title = layerTitle(layer, ++counts[layer.type]);
    const layout = mapLayout(layer.output_shape);
    const canvas = make("canvas", { width: layout.width, height: layout.height });
    const overlay = make("svg", { class: "convnet-playground__overlay", viewBox: `0 0 ${layout.width} ${layout.height}`,
      "aria-hidden": "true", focusable: "false" });
    const box = make("div", { class: "convnet-playground__map", tabindex: 0, role: "group",
      "aria-label": `${title}: ${layout.c} feature maps of ${layout.h}×${layout.w}. Arrow keys move within a map, ` +
        "Page Up and Page Down change map." }, canvas, overlay);
    const figure = make("figure", { class: "convnet-playground__layer" }, box,
      make("figcaption", {}, `${title}. Output ${layout.h}×${layout.w}×${layout.c}`));
    // Each cell of a map at least 2 screen pixels wide, the whole layer about 480 wide, less on a narrow screen.
    box.style.width = `min(100%, ${layout.width * Math.min(Math.max(Math.round(480 / layout.width), 2), 10)}px)`;
    return { index, title, layout, canvas, overlay, box, figure };
  });
  const mapsSection = make("div", { class: "convnet-playground__maps" }, unitLine, ...maps.map((m) => m.figure));

  const title = make("p", { class: "convnet-playground__title", id: `${id}-title` },
    `The book’s convnet, ${number(manifest.parameters)} parameters, ${percent(manifest.test_accuracy)} on the test set`);
  root.replaceChildren(
    title,
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
    mapsSection,
  );
  root.setAttribute("role", "region");
  root.setAttribute("aria-labelledby", title.id);
  return { pad, buttons, source, input, field, verdictLine, bars, barParts, unitLine, maps, mapsSection };
}

/** Load the network named by the placeholder's data-manifest (relative to the page) and mount the playground. */
export async function mount(root) {
  if (root.dataset.state) return;
  root.dataset.state = "loading";
  let net, digits;
  try {
    ({ net, digits } = await loadConvnet(new URL(root.dataset.manifest, document.baseURI).href));
  } catch (error) {
    root.dataset.state = "error";
    root.replaceChildren(make("p", { class: "convnet-playground__message", role: "alert" },
      `The playground cannot run: ${error.message} Reload the page; if this stays, the site’s copy of the network is damaged.`));
    return;
  }
  const manifest = net.manifest;
  const parts = build(root, net, manifest);
  const padContext = parts.pad.getContext("2d", { willReadFrequently: true });
  const inputContext = parts.input.getContext("2d");
  const { labels, predicted, test_indices: testIndices, count } = manifest.digits;
  const misread = [...Array(count).keys()].filter((i) => labels[i] !== predicted[i]);
  let ink = inkColour(root);
  let position = -1; // the test digit shown, -1 for none
  let drawnOver = false; // strokes added by the reader
  let outputs = null;
  let selected = null; // { map, channel, row, column }
  let pending = false;

  const testDigit = (i) => Float32Array.from(digits.subarray(i * FRAME * FRAME, (i + 1) * FRAME * FRAME), (v) => v / 255);

  const showSelection = () => {
    parts.field.replaceChildren();
    for (const map of parts.maps) map.overlay.replaceChildren();
    if (!selected || !outputs) return;
    const map = parts.maps[selected.map];
    const { layout } = map;
    const { channel, row, column } = selected;
    const x = (channel % layout.columns) * (layout.w + 1) + column;
    const y = Math.floor(channel / layout.columns) * (layout.h + 1) + row;
    map.overlay.append(make("rect", { class: "convnet-playground__unit-mark", x, y, width: 1, height: 1 }));
    const area = receptiveField(net, map.index, row, column);
    parts.field.append(make("rect", { class: "convnet-playground__field", x: area.left, y: area.top, width: area.size, height: area.size }));
    const value = outputs[map.index].data[(row * layout.w + column) * layout.c + channel];
    parts.unitLine.textContent = describeUnit(map.title, selected, value, area, layout.c);
    Object.assign(root.dataset, { map: map.index, channel, row, column, fieldTop: area.top, fieldLeft: area.left, fieldSize: area.size });
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
    for (const key of ["predicted", "probability", "map", "channel", "row", "column", "fieldTop", "fieldLeft", "fieldSize"]) delete root.dataset[key];
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
    const label = labels[position];
    const note = labels[position] !== predicted[position] ? " The network misreads it." : "";
    parts.source.textContent = `Test digit ${number(testIndices[position])} of the test set, labelled ${label}.${note}`;
    root.dataset.source = `test:${testIndices[position]}`;
    update();
  };

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
    const after = misread.find((i) => i > position) ?? misread[0];
    showTestDigit(after);
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

  // Selecting a unit: a click on a map, or the keyboard on a focused map.
  parts.maps.forEach((map, m) => {
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
  });

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

  showEmpty();
}

mountEvery(".convnet-playground[data-manifest]", mount);
