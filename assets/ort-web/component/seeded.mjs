// The fixed seeded input of the "on this device" measurement, the same on the server and in every browser.
// Value i of the flattened NCHW tensor: a 32-bit integer hash of (i, seed) whose top 24 bits, scaled to
// [-1, 1), are exact in float32. explorer/devices/served.py: seeded_input implements the same function;
// tests/test_device_input.py runs both and compares them bit for bit.

export const GOLDEN = 0x9e3779b9;

export function hash32(index, seed) {
  let h = (index + Math.imul(seed, GOLDEN)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

export function seededInput(count, seed) {
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    values[i] = (hash32(i, seed) >>> 8) / 8388608 - 1; // 24 bits / 2**23 - 1: exact in float32
  }
  return values;
}
