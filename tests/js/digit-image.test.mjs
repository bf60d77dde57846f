// The playground's preprocessing: a drawing fitted into a 20×20 box and centred by its centre of mass in a
// 28×28 frame, as MNIST's digits were. MNIST's own digits (the test digits the site serves, in snaps/) are the
// reference: drawn large on a pad, they must come back unchanged.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { BOX, boundingBox, CENTRE, centreOfMass, FRAME, prepareDrawing, resample } from "../../docs/javascripts/digit-image.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const PAD = 280;

function testDigits() {
  const manifest = JSON.parse(readFileSync(join(ROOT, "snaps", "convnet.json"), "utf8"));
  const bytes = readFileSync(join(ROOT, "snaps", manifest.digits.file));
  return Array.from({ length: manifest.digits.count }, (_, i) => Float32Array.from(bytes.subarray(i * 784, (i + 1) * 784), (v) => v / 255));
}

/** A digit's ink enlarged `scale` times, each pixel a scale × scale square, with its top-left corner at (top, left) of the pad. */
function drawnLarge(image, scale, top, left) {
  const box = boundingBox(image, FRAME, FRAME);
  const pad = new Float32Array(PAD * PAD);
  for (let y = 0; y < box.height * scale; y++) {
    for (let x = 0; x < box.width * scale; x++) {
      pad[(top + y) * PAD + left + x] = image[(box.top + Math.floor(y / scale)) * FRAME + box.left + Math.floor(x / scale)];
    }
  }
  return pad;
}

test("a blank pad gives no digit", () => {
  assert.equal(prepareDrawing(new Float32Array(PAD * PAD), PAD, PAD), null);
});

test("every MNIST test digit drawn large anywhere on the pad comes back as the very same 28×28 image", () => {
  const digits = testDigits();
  assert.ok(digits.length >= 100);
  digits.forEach((image, i) => {
    for (const [scale, top, left] of [[7, 13, 29], [10, 70, 0], [13, 0, 17]]) {
      const prepared = prepareDrawing(drawnLarge(image, scale, top, left), PAD, PAD);
      const worst = Math.max(...prepared.image.map((v, j) => Math.abs(v - image[j])));
      assert.ok(worst < 1e-5, `digit ${i} drawn ${scale} times larger at (${top}, ${left}): differs by ${worst}`);
    }
  });
});

test("the fitted ink spans 20 pixels on its longer side and keeps its proportions", () => {
  const pad = new Float32Array(PAD * PAD);
  for (let y = 40; y < 240; y++) for (let x = 100; x < 150; x++) pad[y * PAD + x] = 1; // a 200 × 50 bar
  const prepared = prepareDrawing(pad, PAD, PAD);
  assert.deepEqual(prepared.fitted, [BOX, 5]);
  const box = boundingBox(prepared.image, FRAME, FRAME);
  assert.deepEqual([box.height, box.width], [BOX, 5]);
  const [y, x] = centreOfMass(prepared.image, FRAME, FRAME);
  assert.ok(Math.abs(y - CENTRE) <= 0.5 && Math.abs(x - CENTRE) <= 0.5, `centre of mass at (${y}, ${x})`);
});

test("shrinking averages the ink each new pixel covers, so the mean ink is kept", () => {
  const pixels = Float32Array.from({ length: 30 * 45 }, (_, i) => ((i * 7919) % 101) / 100);
  const box = { top: 0, left: 0, height: 30, width: 45 };
  const out = resample(pixels, 45, box, 20, 30);
  const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
  assert.ok(Math.abs(mean(out) - mean(pixels)) < 1e-6);
  assert.ok(Math.max(...out) <= 1);
});

test("a small drawing is enlarged to the box, and where it was drawn does not matter", () => {
  const at = (top, left) => {
    const pad = new Float32Array(PAD * PAD);
    for (let y = 0; y < 30; y++) for (let x = 0; x < 12; x++) pad[(top + y) * PAD + left + x] = y % 10 < 5 ? 1 : 0.5;
    return prepareDrawing(pad, PAD, PAD).image;
  };
  const first = at(5, 5);
  assert.deepEqual([...at(200, 230)], [...first]);
  assert.equal(boundingBox(first, FRAME, FRAME).height, BOX);
});
