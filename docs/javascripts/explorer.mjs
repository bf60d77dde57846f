// The convolution explorer: fills each <div class="conv-explorer"> with controls, the padded input grid,
// the output grid and the formula, all drawn from conv-arithmetic.mjs. Plain DOM and inline SVG.

import { LIMITS, dilatedSpan, kerasAccepts, taps, validate } from "./conv-arithmetic.mjs";
import { make, mountEvery, stepControls, stepWith } from "./widgets.mjs";

const CELL = 20; // side of one grid cell, in SVG units
let widgets = 0; // for ids unique on the page

/** A labelled number field for one of the settings. */
function numberField(id, key, value) {
  const { min, max, name } = LIMITS[key];
  // A text field, so that whatever is typed reaches the check and the message can quote it.
  const input = make("input", { id, name: key, type: "text", inputmode: "numeric", autocomplete: "off", value });
  const range = make("span", { class: "conv-explorer__range" }, `(${min}–${max})`);
  return make("p", { class: "conv-explorer__field" }, make("label", { for: id }, name, " ", range), input);
}

/** The controls, grids, formula and messages of one widget, built once. */
function skeleton(root, start) {
  const id = `conv-explorer-${++widgets}`;
  const fields = ["n", "k", "s", "d"].map((key) => numberField(`${id}-${key}`, key, start[key]));
  const padding = make("select", { id: `${id}-padding`, name: "padding" },
    make("option", { value: "valid" }, "valid (Keras)"),
    make("option", { value: "same" }, "same (Keras)"),
    make("option", { value: "explicit" }, "explicit p (PyTorch style)"));
  padding.value = start.padding;
  const paddingField = make("p", { class: "conv-explorer__field" }, make("label", { for: `${id}-padding` }, "Padding"), padding);
  const pField = numberField(`${id}-p`, "p", start.p);
  const form = make("form", { class: "conv-explorer__controls", "aria-label": "Convolution settings" },
    ...fields, paddingField, pField);
  form.addEventListener("submit", (event) => event.preventDefault());

  const message = make("p", { class: "conv-explorer__message", role: "alert" });
  const note = make("p", { class: "conv-explorer__note" });
  const inputSvg = make("svg", { "aria-hidden": "true", focusable: "false" });
  const outputSvg = make("svg", { "aria-hidden": "true", focusable: "false" });
  const hint = "Arrow keys move the window.";
  const inputGrid = make("div", { class: "conv-explorer__grid", tabindex: 0, role: "group", "aria-label": `Padded input grid. ${hint}` }, inputSvg);
  const outputGrid = make("div", { class: "conv-explorer__grid", tabindex: 0, role: "group", "aria-label": `Output grid: select a cell to see what it reads. ${hint}` }, outputSvg);
  const figures = make("div", { class: "conv-explorer__figures" },
    make("figure", {}, inputGrid, make("figcaption", {}, "Input, with its padding")),
    make("figure", {}, outputGrid, make("figcaption", {}, "Output")));

  const controls = stepControls(id, "conv-explorer", { label: "Window position", back: "◀ Back", forward: "Forward ▶",
    slider: "Window " });
  const status = make("p", { class: "conv-explorer__status", "aria-live": "polite" });
  const formula = make("div", { class: "conv-explorer__formula" });
  const legend = make("p", { class: "conv-explorer__legend" },
    make("span", { class: "conv-explorer__key conv-explorer__key--input" }), " input ",
    make("span", { class: "conv-explorer__key conv-explorer__key--pad" }), " padding ",
    make("span", { class: "conv-explorer__key conv-explorer__key--tap" }), " taps of the current window ",
    make("span", { class: "conv-explorer__key conv-explorer__key--out" }), " the output cell they make");
  root.replaceChildren(form, message, note, figures, legend, controls.group, status, formula);
  return { form, message, note, inputSvg, outputSvg, inputGrid, outputGrid, figures, controls, status, formula, legend };
}

/** The settings the form holds, as raw strings. */
function readForm(parts) {
  const raw = {};
  for (const element of parts.form.elements) {
    if (!element.name) continue;
    raw[element.name] = element.value;
  }
  return raw;
}

/** One grid of cells, `size` by `size`, with a class per cell from `kind(row, column)`. */
function drawGrid(svg, size, kind) {
  const side = size * CELL + 2;
  svg.setAttribute("viewBox", `-1 -1 ${side} ${side}`);
  svg.closest("figure").style.flex = `0 1 ${Math.max(size * 24, 96)}px`; // shrinks on narrow screens
  const cells = make("g", { class: "conv-explorer__cells" });
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) {
      cells.append(make("rect", { x: column * CELL, y: row * CELL, width: CELL, height: CELL, class: kind(row, column),
        "data-row": row, "data-column": column }));
    }
  }
  const overlay = make("g", { class: "conv-explorer__overlay" });
  svg.replaceChildren(cells, overlay);
  return overlay;
}

/** Mount the explorer on one placeholder; does nothing when it is already mounted. */
export function mount(root) {
  if (root.dataset.ready) return;
  root.dataset.ready = "true";
  const start = { n: 5, k: 3, s: 2, d: 1, padding: "same", p: 1, ...root.dataset };
  const parts = skeleton(root, start);
  let state = null; // the valid settings drawn, with their padding and output size
  let position = 0;

  const moveTo = (next) => {
    if (!state) return;
    const count = state.out * state.out;
    position = Math.min(Math.max(next, 0), count - 1);
    drawWindow();
  };
  const stop = stepWith(root, parts.controls, { position: () => position, moveTo,
    last: () => (state ? state.out * state.out - 1 : -1) });

  const drawWindow = () => {
    const { settings: { n, k, s, d }, before, out } = state;
    const row = Math.floor(position / out);
    const column = position % out;
    const rows = taps(row, k, s, d, before);
    const columns = taps(column, k, s, d, before);
    const span = dilatedSpan(k, d);
    const overlay = state.inputOverlay;
    overlay.replaceChildren(make("rect", { class: "conv-explorer__window", x: (columns[0] + before) * CELL,
      y: (rows[0] + before) * CELL, width: span * CELL, height: span * CELL }));
    let padded = 0;
    for (const r of rows) {
      for (const c of columns) {
        const inPadding = r < 0 || r >= n || c < 0 || c >= n;
        padded += inPadding;
        overlay.append(make("rect", { class: `conv-explorer__tap${inPadding ? " conv-explorer__tap--pad" : ""}`,
          x: (c + before) * CELL + 3, y: (r + before) * CELL + 3, width: CELL - 6, height: CELL - 6 }));
      }
    }
    state.outputOverlay.replaceChildren(make("rect", { class: "conv-explorer__current", x: column * CELL + 1,
      y: row * CELL + 1, width: CELL - 2, height: CELL - 2 }));
    parts.controls.slider.value = position;
    parts.controls.slider.setAttribute("aria-valuetext", `output row ${row}, column ${column}`);
    const signed = (value) => String(value).replace("-", "−");
    const range = (values) => `${signed(values[0])} to ${signed(values[values.length - 1])}${d > 1 ? ` every ${d}` : ""}`;
    parts.status.textContent = `Window ${position + 1} of ${out * out}: output cell (row ${row}, column ${column}) ` +
      `reads input rows ${range(rows)} and columns ${range(columns)}; ${padded} of its ${k * k} taps fall in the padding.`;
    Object.assign(parts.status.dataset, { row, column });
    root.dataset.position = position;
  };

  const drawFormula = () => {
    const { settings: { n, k, s, d, padding }, before, after, out } = state;
    const lines = [];
    const general = `o = ⌊(n + p_before + p_after − d(k − 1) − 1)/s⌋ + 1 = ⌊(${n} + ${before} + ${after} − ${d}·(${k} − 1) − 1)/${s}⌋ + 1 ` +
      `= ⌊${n + before + after - d * (k - 1) - 1}/${s}⌋ + 1 = ${out}`;
    if (padding === "same") {
      const total = before + after;
      lines.push(`Keras’s “same”: o = ⌈n/s⌉ = ⌈${n}/${s}⌉ = ${out}.`);
      lines.push(`Padding in all = max((o − 1)·s + d(k − 1) + 1 − n, 0) = max(${out - 1}·${s} + ${d}·${k - 1} + 1 − ${n}, 0) = ${total}: ` +
        `${before} before (top, left) and ${after} after (bottom, right)${before !== after ? ", the extra one after" : ""}.`);
    } else if (padding === "valid") {
      lines.push(`Keras’s “valid”: no padding, p_before = p_after = 0.`);
    } else {
      lines.push(`Explicit padding: p_before = p_after = p = ${before}.`);
    }
    lines.push(general);
    parts.formula.replaceChildren(...lines.map((line) => make("p", {}, line)));
  };

  const render = () => {
    const started = performance.now();
    stop();
    const raw = readForm(parts);
    parts.form.elements.p.disabled = raw.padding !== "explicit";
    const result = validate(raw);
    if (!result.ok) {
      state = null;
      root.dataset.state = "error";
      for (const key of ["out", "padBefore", "padAfter"]) delete root.dataset[key];
      parts.message.textContent = result.error;
      parts.note.textContent = "";
      for (const hidden of [parts.figures, parts.legend, parts.controls.group, parts.formula]) hidden.hidden = true;
      parts.status.textContent = "";
      root.dataset.redrawMs = (performance.now() - started).toFixed(2);
      return;
    }
    const { settings: { n, s, d }, before, after, out } = result;
    for (const shown of [parts.figures, parts.legend, parts.controls.group, parts.formula]) shown.hidden = false;
    parts.message.textContent = "";
    parts.note.textContent = kerasAccepts(s, d) ? ""
      : "Keras’s Conv2D refuses a stride above 1 together with a dilation above 1; PyTorch’s Conv2d accepts it, and the arithmetic is the same.";
    const size = before + n + after;
    const inside = (index) => index >= before && index < before + n;
    const inputOverlay = drawGrid(parts.inputSvg, size, (row, column) =>
      inside(row) && inside(column) ? "conv-explorer__cell" : "conv-explorer__cell conv-explorer__cell--pad");
    const outputOverlay = drawGrid(parts.outputSvg, out, () => "conv-explorer__cell conv-explorer__cell--out");
    state = { ...result, inputOverlay, outputOverlay };
    Object.assign(root.dataset, { ...result.settings, state: "ok", out, padBefore: before, padAfter: after });
    parts.controls.slider.max = out * out - 1;
    position = Math.min(position, out * out - 1);
    drawFormula();
    drawWindow();
    root.dataset.redrawMs = (performance.now() - started).toFixed(2);
  };

  const keys = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: "up", ArrowDown: "down", Home: "home", End: "end" };
  const onKey = (event) => {
    if (!state || !(event.key in keys)) return;
    event.preventDefault();
    stop();
    const step = keys[event.key];
    const count = state.out * state.out;
    const next = step === "up" ? position - state.out : step === "down" ? position + state.out
      : step === "home" ? 0 : step === "end" ? count - 1 : position + step;
    if (next >= 0 && next < count) moveTo(next);
  };
  parts.inputGrid.addEventListener("keydown", onKey);
  parts.outputGrid.addEventListener("keydown", onKey);
  parts.outputSvg.addEventListener("click", (event) => {
    const cell = event.target.closest("rect[data-row]");
    if (!cell || !state) return;
    stop();
    moveTo(Number(cell.dataset.row) * state.out + Number(cell.dataset.column));
    parts.outputGrid.focus();
  });
  parts.form.addEventListener("input", render);
  parts.form.addEventListener("change", render);
  render();
}

mountEvery(".conv-explorer", mount);
