// The SHA-256 the playground checks its files with, against Node's own.

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { test } from "node:test";

import { sha256Hex } from "../../docs/javascripts/sha256.mjs";

test("SHA-256 agrees with node:crypto on every length around the 64-byte block and its padding", () => {
  for (const length of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 100_003]) {
    const data = randomBytes(length);
    assert.equal(sha256Hex(new Uint8Array(data)), createHash("sha256").update(data).digest("hex"), `length ${length}`);
  }
});

test("SHA-256 of the standard test message 'abc'", () => {
  assert.equal(sha256Hex(new TextEncoder().encode("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

test("SHA-256 reads an ArrayBuffer, or a typed array's own bytes only", () => {
  const data = new Uint8Array([9, 1, 2, 3, 9]);
  const expected = createHash("sha256").update(Buffer.from([1, 2, 3])).digest("hex");
  assert.equal(sha256Hex(data.subarray(1, 4)), expected);
  assert.equal(sha256Hex(data.slice(1, 4).buffer), expected);
});
