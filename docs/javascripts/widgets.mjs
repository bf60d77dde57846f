// What the site's widgets (explorer.mjs, animation.mjs, playground.mjs) build their DOM with: elements in the
// right namespace, and a Play button that steps a widget along. Nothing runs until a widget calls it.

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

/** Make `button` play the widget in `root`: a step forward every PLAY_MS, twice as long with reduced motion, until
 * the last step (`last()`, −1 when there is nothing to play), a second press, or the widget leaving the page.
 * `position()` is the current step and `moveTo(step)` shows one. Returns the function that stops playing. */
export function player(root, button, { position, last, moveTo }) {
  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  let timer = null;
  const stop = () => {
    clearInterval(timer);
    timer = null;
    button.textContent = "Play";
    button.setAttribute("aria-pressed", "false");
  };
  button.addEventListener("click", () => {
    if (timer || last() < 0) return stop();
    if (position() >= last()) moveTo(0);
    button.textContent = "Pause";
    button.setAttribute("aria-pressed", "true");
    // The window jumps from place to place, never slides.
    timer = setInterval(() => {
      if (!root.isConnected || last() < 0 || position() >= last()) return stop();
      moveTo(position() + 1);
    }, reducedMotion.matches ? 2 * PLAY_MS : PLAY_MS);
  });
  return stop;
}
