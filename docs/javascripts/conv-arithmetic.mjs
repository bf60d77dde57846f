// Keras's convolution arithmetic along one axis, as pure functions (no DOM): the explorer draws
// what these return, and tests/js/ checks them against output sizes and paddings measured in Keras.

/** The ranges the explorer accepts, inclusive. */
export const LIMITS = Object.freeze({
  n: { min: 1, max: 32, name: "Input size n" },
  k: { min: 1, max: 7, name: "Kernel size k" },
  s: { min: 1, max: 4, name: "Stride s" },
  d: { min: 1, max: 3, name: "Dilation d" },
  p: { min: 0, max: 7, name: "Padding p" },
});

/** The padding modes: Keras's two, and an explicit p before and after, as PyTorch's Conv2d takes it. */
export const PADDINGS = Object.freeze(["valid", "same", "explicit"]);

/** Span of a dilated window: the distance from its first tap to its last, plus one. */
export function dilatedSpan(k, d = 1) {
  return d * (k - 1) + 1;
}

/** Outputs along an axis of padded length m, or 0 when the dilated window does not fit. */
function fittingWindows(m, k, s, d) {
  const span = dilatedSpan(k, d);
  return m < span ? 0 : Math.floor((m - span) / s) + 1;
}

/** Rows (or columns) added [before, after] an axis of length n: Keras's "valid" and "same", or p on both sides. */
export function paddingAmounts(n, k, s = 1, d = 1, padding = "valid", p = 0) {
  if (padding === "valid") return [0, 0];
  if (padding === "explicit") return [p, p];
  if (padding === "same") {
    const out = Math.ceil(n / s);
    const total = Math.max((out - 1) * s + dilatedSpan(k, d) - n, 0);
    const before = Math.floor(total / 2);
    return [before, total - before]; // an odd total puts the extra row after (bottom, right)
  }
  throw new RangeError(`padding must be one of ${PADDINGS.join(", ")}, not ${padding}`);
}

/** Output length along an axis: ⌊(n + before + after − d(k − 1) − 1)/s⌋ + 1, or 0 when no window fits. */
export function outputSize(n, k, s = 1, d = 1, padding = "valid", p = 0) {
  if (padding === "same") return Math.ceil(n / s);
  const [before, after] = paddingAmounts(n, k, s, d, padding, p);
  return fittingWindows(n + before + after, k, s, d);
}

/** Input index (negative or ≥ n inside the padding) of the first tap of output i's window. */
export function windowStart(i, s, before) {
  return i * s - before;
}

/** Input indices that output i's k taps read, d apart; those outside [0, n) fall in the padding. */
export function taps(i, k, s = 1, d = 1, before = 0) {
  const start = windowStart(i, s, before);
  return Array.from({ length: k }, (_, j) => start + j * d);
}

/** Whether Keras's Conv2D accepts the setting: it refuses a stride above 1 together with a dilation above 1. */
export function kerasAccepts(s, d) {
  return s === 1 || d === 1;
}

/** Read one setting: an integer within its limits, or a one-line message saying what is wrong. */
function readInteger(key, raw) {
  const { min, max, name } = LIMITS[key];
  const text = String(raw ?? "").trim();
  if (text === "") return { error: `${name} is empty: enter a whole number from ${min} to ${max}.` };
  if (!/^[+-]?\d+$/.test(text)) return { error: `${name} must be a whole number from ${min} to ${max}, not “${text}”.` };
  const value = Number(text);
  if (value < min || value > max) return { error: `${name} must be from ${min} to ${max}, not ${value}.` };
  return { value };
}

/**
 * Check raw settings {n, k, s, d, padding, p} (strings or numbers, as a form gives them).
 * Returns {ok: true, settings, before, after, out} or {ok: false, error} with one clear line.
 */
export function validate(raw) {
  const settings = {};
  for (const key of ["n", "k", "s", "d"]) {
    const read = readInteger(key, raw[key]);
    if (read.error) return { ok: false, error: read.error };
    settings[key] = read.value;
  }
  settings.padding = raw.padding;
  if (!PADDINGS.includes(settings.padding)) {
    return { ok: false, error: `Padding must be “valid”, “same” or an explicit p, not “${raw.padding}”.` };
  }
  settings.p = 0;
  if (settings.padding === "explicit") {
    const read = readInteger("p", raw.p);
    if (read.error) return { ok: false, error: read.error };
    settings.p = read.value;
  }
  const { n, k, s, d, padding, p } = settings;
  const [before, after] = paddingAmounts(n, k, s, d, padding, p);
  const out = outputSize(n, k, s, d, padding, p);
  if (out < 1) {
    const span = dilatedSpan(k, d);
    return {
      ok: false,
      error: `No output: the dilated window spans ${span} cells, more than the ${n + before + after} of the padded input.`,
    };
  }
  return { ok: true, settings, before, after, out };
}
