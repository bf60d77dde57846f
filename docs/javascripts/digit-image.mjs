// A drawing made into an MNIST digit, the way MNIST's own digits were made: the ink's bounding box is scaled,
// keeping its proportions, to fit a 20×20 box (each new pixel the average of the ink it covers), and the box is
// placed in a 28×28 frame so that the ink's centre of mass falls on the frame's centre. Pure functions on
// arrays of ink values from 0 to 1; Node imports them too (tests/js/digit-image.test.mjs).

export const FRAME = 28; // side of the network's input
export const BOX = 20; // side of the box the ink is fitted into
export const CENTRE = 14; // where MNIST's centres of mass lie, in pixel indices (mean 14.0 over its training digits)

/** The smallest rectangle holding every pixel with ink, { top, left, height, width }, or null on a blank image. */
export function boundingBox(pixels, width, height) {
  let top = height, left = width, bottom = -1, right = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (pixels[y * width + x] > 0) {
        if (y < top) top = y;
        if (y > bottom) bottom = y;
        if (x < left) left = x;
        if (x > right) right = x;
      }
    }
  }
  return bottom < 0 ? null : { top, left, height: bottom - top + 1, width: right - left + 1 };
}

/** For each of `count` output cells along one axis, the source cells from `start` (of `length`) it covers and
 * their weights: the share of the output cell each covers, so that every output cell averages what it covers. */
function coverage(start, length, count) {
  const step = length / count;
  return Array.from({ length: count }, (_, i) => {
    const from = i * step, to = (i + 1) * step;
    const cells = [];
    for (let s = Math.floor(from); s < Math.min(Math.ceil(to), length); s++) {
      const overlap = Math.min(s + 1, to) - Math.max(s, from);
      if (overlap > 0) cells.push([start + s, overlap / step]);
    }
    return cells;
  });
}

/** The rectangle `box` of an image resampled to rows × columns by averaging the area each new pixel covers. */
export function resample(pixels, width, box, rows, columns) {
  const across = coverage(box.left, box.width, columns);
  const down = coverage(box.top, box.height, rows);
  const out = new Float32Array(rows * columns);
  const line = new Float64Array(columns);
  down.forEach((sources, row) => {
    line.fill(0);
    for (const [y, wy] of sources) {
      across.forEach((cells, column) => {
        let sum = 0;
        for (const [x, wx] of cells) sum += wx * pixels[y * width + x];
        line[column] += wy * sum;
      });
    }
    for (let column = 0; column < columns; column++) out[row * columns + column] = Math.min(line[column], 1);
  });
  return out;
}

/** The ink's centre of mass, [row, column] in pixel indices, of a rows × columns image. */
export function centreOfMass(image, rows, columns) {
  let mass = 0, y = 0, x = 0;
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const value = image[row * columns + column];
      mass += value;
      y += value * row;
      x += value * column;
    }
  }
  return [y / mass, x / mass];
}

/** The 28×28 digit (row by row, ink from 0 to 1) made from a width × height drawing, with how it was made:
 * { image, box, fitted: [rows, columns], offset: [top, left] }; null when the drawing has no ink. */
export function prepareDrawing(pixels, width, height) {
  const box = boundingBox(pixels, width, height);
  if (!box) return null;
  const longer = Math.max(box.height, box.width);
  const fit = (side) => Math.max(1, Math.round((side * BOX) / longer));
  const rows = fit(box.height), columns = fit(box.width);
  const fitted = resample(pixels, width, box, rows, columns);
  const [y, x] = centreOfMass(fitted, rows, columns);
  const place = (centre, side) => Math.min(Math.max(Math.round(CENTRE - centre), 0), FRAME - side);
  const top = place(y, rows), left = place(x, columns);
  const image = new Float32Array(FRAME * FRAME);
  for (let row = 0; row < rows; row++) image.set(fitted.subarray(row * columns, (row + 1) * columns), (top + row) * FRAME + left);
  return { image, box, fitted: [rows, columns], offset: [top, left] };
}
