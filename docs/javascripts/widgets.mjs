// What the site's widgets (explorer.mjs, animation.mjs, playground.mjs) share: elements in the right namespace,
// step controls (back, Play, forward and a slider) that move a widget along, and mounting on every page shown.
// Nothing runs until a widget calls it.

const SVG = "http://www.w3.org/2000/svg";
const SVG_TAGS = new Set(["svg", "rect", "g", "text"]);
const PLAY_MS = 700; // time between steps while playing

/** An element with attributes and children; SVG names go to the SVG namespace. */
export function make(tag, attributes = {}, ...children) {
  const element = SVG_TAGS.has(tag) ? document.createElementNS(SVG, tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

/** The step controls of the widget `block` (its CSS class): back, Play, forward and a slider labelled `slider`,
 * in a group named `label`; `id` makes the slider's id. */
export function stepControls(id, block, { label, back, forward, slider }) {
  const button = (text, attributes = {}) => make("button", { type: "button", class: "md-button", ...attributes }, text);
  const controls = {
    back: button(back),
    play: button("Play", { "aria-pressed": "false" }),
    forward: button(forward),
    slider: make("input", { id: `${id}-step`, type: "range", min: 0, max: 0, step: 1, value: 0 }),
  };
  controls.group = make("div", { class: `${block}__player`, role: "group", "aria-label": label },
    controls.back, controls.play, controls.forward,
    make("label", { for: `${id}-step`, class: `${block}__slider` }, slider, controls.slider));
  return controls;
}

/** Make the step controls move the widget in `root`: back, forward and the slider stop playing and show a step;
 * Play steps forward every PLAY_MS, twice as long with reduced motion, until the last step (`last()`, −1 when there
 * is nothing to play), a second press, or the widget leaving the page. `position()` is the current step and
 * `moveTo(step)` shows one. Returns the function that stops playing. */
export function stepWith(root, controls, { position, last, moveTo }) {
  const { play, back, forward, slider } = controls;
  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  let timer = null;
  const stop = () => {
    clearInterval(timer);
    timer = null;
    play.textContent = "Play";
    play.setAttribute("aria-pressed", "false");
  };
  play.addEventListener("click", () => {
    if (timer || last() < 0) return stop();
    if (position() >= last()) moveTo(0);
    play.textContent = "Pause";
    play.setAttribute("aria-pressed", "true");
    // The window jumps from place to place, never slides.
    timer = setInterval(() => {
      if (!root.isConnected || last() < 0 || position() >= last()) return stop();
      moveTo(position() + 1);
    }, reducedMotion.matches ? 2 * PLAY_MS : PLAY_MS);
  });
  const go = (step) => { stop(); moveTo(step); };
  back.addEventListener("click", () => go(position() - 1));
  forward.addEventListener("click", () => go(position() + 1));
  slider.addEventListener("input", () => go(Number(slider.value)));
  return stop;
}

/** Mount each element `selector` finds with `mount`, on this page and, when Material's instant navigation swaps
 * pages in without a reload, on each page it shows; nothing outside a browser (the Node tests import the widgets). */
export function mountEvery(selector, mount) {
  if (typeof document === "undefined") return;
  const mountAll = () => document.querySelectorAll(selector).forEach((root) => mount(root));
  if (typeof window.document$ !== "undefined") window.document$.subscribe(mountAll);
  else mountAll();
}
