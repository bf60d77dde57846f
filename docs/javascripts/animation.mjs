// The animations: fills each <div class="conv-animation" data-src="…json"> with the input, kernel and output
// grids of a convolution or pooling, stepped one output cell at a time. Every number comes from the frame data
// that code/make_figures.py writes with convnets.animations (NumPy); this script only draws it. Plain DOM and
// inline SVG. Nothing plays until the reader presses Play.

import { make, mountEvery, stepControls, stepWith } from "./widgets.mjs";

export const CELL = 20; // side of one grid cell, in SVG units
let widgets = 0; // for ids unique on the page

/** The step `position` moved to, kept within the `count` frames. */
export function clampStep(position, count) {
  return Math.min(Math.max(Math.trunc(position), 0), count - 1);
}

/** A value as the page prints it: `decimals` places and a true minus sign. */
export function formatValue(value, decimals) {
  return Number(value).toFixed(decimals).replace("-", "−");
}

/** The rectangle of grid cell (row, column), in SVG units. */
export function cellBox(row, column, cell = CELL) {
  return { x: column * cell, y: row * cell, width: cell, height: cell };
}

/** The side of the window on the padded input: d(k − 1) + 1 for a kernel, the pool size for pooling. */
export function windowSpan(data) {
  return data.kind === "max_pool" ? data.size : data.dilation * (data.kernel.length - 1) + 1;
}

/** The (row, column) cells of the padded input that frame's window reads, row by row. */
export function windowTaps(data, frame) {
  const [top, left] = frame.window;
  const k = data.kind === "max_pool" ? data.size : data.kernel.length;
  const d = data.kind === "max_pool" ? 1 : data.dilation;
  const cells = [];
  for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) cells.push([top + u * d, left + v * d]);
  return cells;
}

/** The arithmetic of one frame, in words: products summed for a convolution, the maximum for pooling. */
export function arithmetic(data, frame) {
  const taps = windowTaps(data, frame).map(([r, c]) => data.padded[r][c]);
  const show = (value) => formatValue(value, data.decimals);
  const result = show(frame.value);
  if (data.kind === "max_pool") return `max(${taps.map(show).join(", ")}) = ${result}`;
  const weights = data.kernel.flat();
  if (data.shade || taps.length > 9) return `Σ window × kernel + bias = ${result}`;
  const terms = taps.map((tap, index) => `${show(weights[index])}·${show(tap)}`).join(" + ");
  return `${terms}${data.bias ? ` + ${show(data.bias)}` : ""} = ${result}`;
}

/** The live line announced at each step. */
export function describe(data, step) {
  const frame = data.frames[step];
  const [top, left] = frame.window;
  const span = windowSpan(data);
  const [row, column] = frame.cell;
  const where = data.pad[0] + data.pad[1] > 0 ? " of the padded input" : "";
  return `Step ${step + 1} of ${data.frames.length}: the window covers rows ${top} to ${top + span - 1} and columns ` +
    `${left} to ${left + span - 1}${where}; output cell (row ${row}, column ${column}) = ${formatValue(frame.value, data.decimals)}.`;
}

/** A sentence saying what the animation shows, for readers who do not see the grids. */
export function summary(data) {
  const n = data.input.length;
  const out = data.output.length;
  const [before, after] = data.pad;
  const rows = (count) => count === 0 ? "none" : count === 1 ? "one row and one column of zeros" : `${count} rows and columns of zeros`;
  const padding = before + after > 0 ? ` Padding “same” adds ${rows(before)} before the input and ${rows(after)} after it.` : "";
  if (data.kind === "max_pool") {
    return `A ${data.size}×${data.size} max-pooling window moves over a ${n}×${n} map with stride ${data.stride}; ` +
      `each step writes the largest of its ${data.size * data.size} values into a ${out}×${out} output.`;
  }
  const k = data.kernel.length;
  const dilation = data.dilation > 1 ? `, its taps ${data.dilation} cells apart,` : "";
  return `A ${k}×${k} kernel${dilation} moves over a ${n}×${n} input with stride ${data.stride}; each step multiplies ` +
    `the cells under it by the kernel's weights, adds them up${data.bias ? " with the bias" : ""} and writes the sum ` +
    `into one cell of the ${out}×${out} output.${padding}`;
}

/** The largest absolute value of a grid, at least a tiny number so that it can divide. */
function scale(grid) {
  return Math.max(1e-9, ...grid.flat().map(Math.abs));
}

/** One figure holding a grid of numbers (or shades) with its caption; returns the figure and its overlay. */
function gridFigure(values, caption, { decimals, shade, signed, isPad = () => false }) {
  const size = values.length;
  const side = size * CELL + 2;
  const svg = make("svg", { viewBox: `-1 -1 ${side} ${side}`, "aria-hidden": "true", focusable: "false" });
  const cells = make("g", { class: "conv-animation__cells" });
  const largest = scale(values);
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) {
      const value = values[row][column];
      const pad = isPad(row, column);
      const rect = make("rect", { ...cellBox(row, column), class: `conv-animation__cell${pad ? " conv-animation__cell--pad" : ""}`,
        "data-row": row, "data-column": column });
      cells.append(rect);
      if (shade && value !== null && !pad) {
        const tone = signed ? (value >= 0 ? "conv-animation__shade--positive" : "conv-animation__shade--negative") : "conv-animation__shade--ink";
        cells.append(make("rect", { ...cellBox(row, column), class: `conv-animation__shade ${tone}`,
          "fill-opacity": (Math.abs(value) / largest).toFixed(3) }));
      }
      if (!shade && value !== null) {
        cells.append(make("text", { x: column * CELL + CELL / 2, y: row * CELL + CELL / 2, class: "conv-animation__number",
          "font-size": decimals > 0 ? 7 : 9 }, formatValue(value, decimals)));
      }
    }
  }
  const overlay = make("g", { class: "conv-animation__overlay" });
  svg.append(cells, overlay);
  const figure = make("figure", {}, svg, make("figcaption", {}, caption));
  figure.style.flex = `0 1 ${Math.min(Math.max(size * (shade ? 12 : 30), 72), 340)}px`; // shrinks on narrow screens
  return { figure, svg, overlay, cells };
}

/** Build the widget for one animation's data inside `root`; returns the function that shows a step. */
function build(root, data) {
  const id = `conv-animation-${++widgets}`;
  const [before] = data.pad;
  const n = data.input.length;
  const inside = (index) => index >= before && index < before + n;
  const isPad = (row, column) => !(inside(row) && inside(column));
  const padded = data.pad[0] + data.pad[1] > 0;
  const input = gridFigure(data.padded, padded ? "Input, with its padding of zeros" : "Input",
    { decimals: data.decimals, shade: data.shade, signed: false, isPad });
  const figures = [input.figure];
  if (data.kind === "conv") {
    const caption = `Kernel${data.bias ? `, bias ${formatValue(data.bias, data.decimals)}` : ""}`;
    figures.push(gridFigure(data.kernel, caption, { decimals: data.decimals, shade: false }).figure);
  }
  const blank = data.output.map((line) => line.map(() => null));
  const output = gridFigure(blank, data.kind === "conv" ? "Output" : "Output: the maxima",
    { decimals: data.decimals, shade: data.shade, signed: true });

  const title = make("p", { class: "conv-animation__title", id: `${id}-title` }, data.title);
  const description = make("p", { class: "conv-animation__description", id: `${id}-description` }, summary(data));
  const controls = stepControls(id, "conv-animation", { label: "Animation steps", back: "◀ Step back",
    forward: "Step forward ▶", slider: "Step " });
  const { slider } = controls;
  slider.max = data.frames.length - 1;
  const status = make("p", { class: "conv-animation__status", "aria-live": "polite" });
  const sum = make("p", { class: "conv-animation__sum" });
  const stage = make("div", { class: "conv-animation__figures" }, ...figures, output.figure);
  root.replaceChildren(title, description, stage, sum, controls.group, status);
  root.setAttribute("role", "region");
  root.setAttribute("aria-labelledby", title.id);
  root.setAttribute("aria-describedby", description.id);

  const outputCells = output.svg.querySelector(".conv-animation__cells");
  const largest = scale(data.output);
  const fillOutput = (step) => {
    outputCells.querySelectorAll(".conv-animation__shade, .conv-animation__number").forEach((node) => node.remove());
    for (const frame of data.frames.slice(0, step + 1)) {
      const [row, column] = frame.cell;
      if (data.shade) {
        const tone = frame.value >= 0 ? "conv-animation__shade--positive" : "conv-animation__shade--negative";
        outputCells.append(make("rect", { ...cellBox(row, column), class: `conv-animation__shade ${tone}`,
          "fill-opacity": (Math.abs(frame.value) / largest).toFixed(3) }));
      } else {
        outputCells.append(make("text", { x: column * CELL + CELL / 2, y: row * CELL + CELL / 2, class: "conv-animation__number",
          "font-size": data.decimals > 0 ? 7 : 9 }, formatValue(frame.value, data.decimals)));
      }
    }
  };

  const span = windowSpan(data);
  return {
    controls,
    show(step) {
      const frame = data.frames[step];
      const [top, left] = frame.window;
      input.overlay.replaceChildren(make("rect", { class: "conv-animation__window", x: left * CELL, y: top * CELL,
        width: span * CELL, height: span * CELL }));
      for (const [r, c] of windowTaps(data, frame)) {
        input.overlay.append(make("rect", { class: "conv-animation__tap", x: c * CELL + 2, y: r * CELL + 2,
          width: CELL - 4, height: CELL - 4 }));
      }
      fillOutput(step);
      const [row, column] = frame.cell;
      output.overlay.replaceChildren(make("rect", { class: "conv-animation__current", x: column * CELL + 1,
        y: row * CELL + 1, width: CELL - 2, height: CELL - 2 }));
      slider.value = step;
      slider.setAttribute("aria-valuetext", `step ${step + 1} of ${data.frames.length}: output row ${row}, column ${column}`);
      status.textContent = describe(data, step);
      sum.textContent = arithmetic(data, frame);
      Object.assign(root.dataset, { step, row, column, value: formatValue(frame.value, data.decimals) });
    },
  };
}

/** Load one placeholder's frame data (its data-src, relative to the page) and mount the player on it. */
export async function mount(root) {
  if (root.dataset.state) return;
  root.dataset.state = "loading";
  let data;
  try {
    const response = await fetch(new URL(root.dataset.src, document.baseURI));
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    data = await response.json();
  } catch (error) {
    root.dataset.state = "error";
    root.append(make("p", { class: "conv-animation__message", role: "alert" },
      `The animation’s data could not be loaded (${error.message}).`));
    return;
  }
  const parts = build(root, data);
  const count = data.frames.length;
  let step = 0;
  const moveTo = (next) => {
    step = clampStep(next, count);
    parts.show(step);
  };
  stepWith(root, parts.controls, { position: () => step, last: () => count - 1, moveTo });
  moveTo(0);
  root.dataset.state = "ok";
}

mountEvery(".conv-animation[data-src]", mount);
