// The playground's arithmetic panel: the numbers of one unit, as unitArithmetic (unit-arithmetic.mjs) gives them, laid
// out in the convolution chapter's notation: patch, kernel and products for a convolution, the window for pooling, the
// weighted inputs and the softmax for a Dense unit. Every number keeps its full value in data-value, which the
// browser tests read. Plain DOM; playground.mjs places the panel and fills it.

import { fixed } from "./unit-arithmetic.mjs";
import { make } from "./widgets.mjs";

const DRAWN_CHANNELS = 3; // a deeper Conv2D's largest contributions drawn as patch and kernel; the rest are listed
const LISTED_TERMS = 8; // a Dense unit's largest weight × input terms shown one by one

/** A probability as a percentage: "93.1%". */
export const percent = (p) => `${(100 * p).toFixed(1)}%`;
/** A count with thousands separators: "1,152". */
export const number = (n) => n.toLocaleString("en");
/** A window's size: "3×3". */
export const across = ([h, w]) => `${h}×${w}`;

/** A number shown to `digits` decimals, keeping its full value in data-value. */
const shownNumber = (value, digits = 3, tag = "span", attributes = {}) =>
  make(tag, { ...attributes, "data-value": String(value) }, fixed(value, digits));

/** A symbol with a subscript: x<sub>i,j</sub>. */
const symbol = (name, subscript) => make("var", {}, name, ...(subscript === undefined ? [] : [make("sub", {}, subscript)]));

/** A rows × columns table of numbers (null: padding), `mark` the index of the one cell to stress. */
function grid(values, [rows, columns], caption, { digits = 3, mark = -1, padded = () => false, name } = {}) {
  const table = make("table", { class: "convnet-playground__grid", "data-grid": name }, make("caption", {}, ...caption));
  for (let r = 0; r < rows; r++) {
    const row = make("tr");
    for (let c = 0; c < columns; c++) {
      const i = r * columns + c;
      const value = values[i];
      if (value === null) row.append(make("td", { class: "convnet-playground__padding" }, "pad"));
      else {
        const classes = [i === mark && "convnet-playground__max", padded(r, c) && "convnet-playground__padding"].filter(Boolean);
        row.append(shownNumber(value, digits, "td", classes.length ? { class: classes.join(" ") } : {}));
      }
    }
    table.append(row);
  }
  return table;
}

/** A short table of labelled values: the sum, the bias and what follows. */
function sums(rows) {
  const table = make("table", { class: "convnet-playground__sums" });
  for (const [label, value, key] of rows) {
    table.append(make("tr", {}, make("th", { scope: "row" }, ...label), shownNumber(value, 3, "td", { "data-key": key })));
  }
  return table;
}

/** The convolution chapter's equation, with the layer's stride. */
function convEquation(strides) {
  const [sy, sx] = strides;
  const row = sy === 1 ? "i+u" : `${sy}i+u`;
  const column = sx === 1 ? "j+v" : `${sx}j+v`;
  return make("p", { class: "convnet-playground__equation" }, symbol("y", "i,j,o"), " = ", symbol("b", "o"), " + ",
    make("span", { class: "convnet-playground__sigma" }, "Σ"), make("sub", {}, "u,v,c"), " ",
    symbol("x", `${row}, ${column}, c`), " ", symbol("w", "u,v,c,o"));
}

/** Patch × kernel = products, for one input channel of a Conv2D unit. */
function channelProduct(contribution, result, inputShape) {
  const [kh, kw] = result.size;
  const [h, w] = inputShape;
  const padded = (r, c) => result.top + r < 0 || result.top + r >= h || result.left + c < 0 || result.left + c >= w;
  const c = contribution.channel;
  return make("div", { class: "convnet-playground__product", "data-channel": c },
    grid(contribution.patch, [kh, kw], [symbol("x"), `: input patch, c = ${c}`], { digits: 2, padded, name: "patch" }),
    make("span", { class: "convnet-playground__operator", "aria-hidden": "true" }, "×"),
    grid(contribution.kernel, [kh, kw], [symbol("w"), `: kernel slice, c = ${c}`], { digits: 2, name: "kernel" }),
    make("span", { class: "convnet-playground__operator", "aria-hidden": "true" }, "="),
    grid(contribution.products, [kh, kw], ["products ", symbol("x"), symbol("w")], { name: "products" }));
}

/** What the activation makes of the value before it, as a row of `sums`. */
function activationRow(result) {
  if (result.activation === "relu") return [["ReLU: max(0, ", symbol("y"), ")"], result.value, "value"];
  return null;
}

function convolutionPanel(result, context) {
  const { unit, contributions } = result;
  const o = unit.channel;
  const where = make("p", {}, `Map ${o + 1} (`, symbol("o"), ` = ${o}), row `, symbol("i"), ` = ${unit.row}, column `,
    symbol("j"), ` = ${unit.column}. Its window starts at row ${result.top}, column ${result.left} of ${context.inputName}.`);
  const parts = [convEquation(context.layer.strides), where];
  if (contributions.length === 1) parts.push(channelProduct(contributions[0], result, context.inputShape));
  else {
    const channels = contributions.length;
    parts.push(make("p", {}, `Its input, ${context.inputName}, has ${channels} maps, so each filter has a ${across(result.size)} kernel ` +
      `slice for every one of them: the sum over `, symbol("c"), ` adds ${channels} contributions, each one map’s ` +
      `${across(result.size)} patch times its slice. That sum over the input channels is what makes the equation ` +
      "the multi-channel one. The largest contributions:"));
    for (const contribution of contributions.slice(0, DRAWN_CHANNELS)) {
      parts.push(make("p", { class: "convnet-playground__subhead" }, `Map ${contribution.channel + 1} of ${context.inputName} (`,
        symbol("c"), ` = ${contribution.channel}) contributes `, shownNumber(contribution.sum, 3, "strong")),
      channelProduct(contribution, result, context.inputShape));
    }
    const rest = contributions.slice(DRAWN_CHANNELS);
    parts.push(make("p", { class: "convnet-playground__subhead", id: `${context.id}-rest` }, `The other ${rest.length} contributions, largest first:`),
      make("ol", { class: "convnet-playground__list", tabindex: 0, "aria-labelledby": `${context.id}-rest` },
        ...rest.map((item) => make("li", { "data-channel": item.channel }, symbol("c"), ` = ${item.channel}: `, shownNumber(item.sum)))));
  }
  parts.push(sums([
    [["sum of the products"], result.total, "total"],
    [["+ bias ", symbol("b", "o")], result.bias, "bias"],
    [["= ", symbol("y"), " before the activation"], result.pre, "pre"],
    activationRow(result),
  ].filter(Boolean)));
  return parts;
}

function poolingPanel(result, context) {
  const { unit } = result;
  const [ph, pw] = result.size;
  const max = result.type === "MaxPooling2D";
  const mark = max ? result.window.findIndex((_, i) => result.top + Math.floor(i / pw) === result.maxAt.row &&
    result.left + (i % pw) === result.maxAt.column) : -1;
  const parts = [
    make("p", {}, `Map ${unit.channel + 1}, row ${unit.row}, column ${unit.column}: the ${max ? "largest" : "mean"} of the ` +
      `${across(result.size)} window of map ${unit.channel + 1} of ${context.inputName} that starts at row ${result.top}, ` +
      `column ${result.left}.`),
    grid(result.window, [ph, pw], ["the window"], { mark, name: "window" }),
  ];
  if (max) {
    parts.push(make("p", {}, "The largest value, marked, is ", shownNumber(result.value, 3, "strong", { "data-key": "value" }),
      `, from row ${result.maxAt.row}, column ${result.maxAt.column} of ${context.inputName}: it is what this unit passes on.`));
  } else {
    parts.push(sums([[["sum of the window"], result.total, "total"], [[`÷ ${result.count} values`], result.value, "value"]]));
  }
  return parts;
}

function globalAveragePanel(result, context) {
  return [
    make("p", {}, `Unit ${result.unit.channel + 1}: the mean of all ${result.count} values of map ${result.unit.channel + 1} ` +
      `of ${context.inputName}.`),
    sums([[["sum of the map"], result.total, "total"], [[`÷ ${result.count} values`], result.value, "value"]]),
  ];
}

/** Where a Dense input came from: "map 12, row 1, column 2", or "input 345". */
const termSource = (term) => (term.position
  ? `map ${term.position.channel + 1}, row ${term.position.row}, column ${term.position.column}`
  : `input ${term.index}`);

function densePanel(result, context) {
  const k = result.unit.channel;
  const softmax = result.activation === "softmax";
  const unitName = softmax ? `Class ${k}` : `Unit ${k + 1}`;
  const terms = make("table", { class: "convnet-playground__terms" },
    make("caption", {}, `The ${LISTED_TERMS} largest of the ${number(result.terms.length)} products`),
    make("tr", {}, make("th", { scope: "col" }, "input"), make("th", { scope: "col" }, symbol("x", "n")),
      make("th", { scope: "col" }, symbol("w", `n,${k}`)), make("th", { scope: "col" }, symbol("x", "n"), symbol("w", `n,${k}`))),
    ...result.terms.slice(0, LISTED_TERMS).map((term) => make("tr", { "data-index": term.index },
      make("th", { scope: "row" }, termSource(term)), shownNumber(term.input, 3, "td"), shownNumber(term.weight, 3, "td"),
      shownNumber(term.product, 3, "td"))));
  const parts = [
    make("p", { class: "convnet-playground__equation" }, symbol("z", k), " = ", symbol("b", k), " + ",
      make("span", { class: "convnet-playground__sigma" }, "Σ"), make("sub", {}, "n"), " ", symbol("x", "n"), " ", symbol("w", `n,${k}`)),
    make("p", {}, `${unitName}: its ${softmax ? "logit" : "value"} `, symbol("z", k), ` adds the bias and the ` +
      `${number(result.terms.length)} inputs from ${context.inputName}, each times its weight.`),
    terms,
  ];
  if (result.groups.length) {
    parts.push(make("p", { class: "convnet-playground__subhead", id: `${context.id}-groups` },
      `The products added up map by map, over the ${result.groups.length} maps of ${context.inputName}, largest first:`),
    make("ol", { class: "convnet-playground__list", tabindex: 0, "aria-labelledby": `${context.id}-groups` },
      ...result.groups.map((group) => make("li", { "data-channel": group.channel }, `map ${group.channel + 1}: `, shownNumber(group.sum)))));
  }
  parts.push(sums([
    [["sum of all products"], result.total, "total"],
    [["+ bias ", symbol("b", k)], result.bias, "bias"],
    [["= ", softmax ? "logit " : "", symbol("z", k)], result.pre, "pre"],
    ...(result.activation === "relu" ? [[["ReLU: max(0, ", symbol("z", k), ")"], result.value, "value"]] : []),
  ]));
  if (softmax) {
    parts.push(make("p", {}, "Softmax turns the ten logits into probabilities: ", symbol("p", k), " = e", make("sup", {}, symbol("z", k)),
      " / Σ", make("sub", {}, "m"), " e", make("sup", {}, symbol("z", "m")), " = ",
      make("strong", { "data-value": String(result.value), "data-key": "value" }, percent(result.value)), "."),
    grid(result.logits, [1, result.logits.length], ["the logits ", symbol("z", "0"), " to ", symbol("z", String(result.logits.length - 1))],
      { digits: 1, mark: k, name: "logits" }));
  }
  return parts;
}

/** The panel's content for one result of unitArithmetic. */
export function arithmeticPanel(result, context) {
  if (result.type === "Conv2D") return convolutionPanel(result, context);
  if (result.type === "MaxPooling2D" || result.type === "AveragePooling2D") return poolingPanel(result, context);
  if (result.type === "GlobalAveragePooling2D") return globalAveragePanel(result, context);
  return densePanel(result, context);
}
