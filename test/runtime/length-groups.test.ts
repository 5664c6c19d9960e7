// Length groups for ONNX embedding batches: every input once, similar lengths together, padding within its share.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lengthGroups } from '../../src/runtime/runners/onnx/length-groups.ts';

/** Padded tokens over real tokens of one group. */
const paddingOf = (lengths: readonly number[], group: readonly number[]) => {
  const sizes = group.map((index) => lengths[index] ?? 0);
  return (group.length * Math.max(...sizes)) / sizes.reduce((sum, size) => sum + size, 0) - 1;
};

describe('length groups', () => {
  it('puts every input in exactly one group', () => {
    const lengths = [12, 130, 40, 41, 9, 128, 12, 70, 13, 39];
    const groups = lengthGroups(lengths);
    assert.deepEqual(
      groups.flat().sort((a, b) => a - b),
      lengths.map((_, index) => index),
    );
  });

  it('keeps each group within the padding share, and groups equal lengths together', () => {
    const lengths = [12, 130, 40, 41, 9, 128, 12, 70, 13, 39, 40, 12];
    for (const group of lengthGroups(lengths)) assert.ok(paddingOf(lengths, group) <= 0.05 + 1e-9, `group ${group} pads too much`);
    assert.deepEqual(lengthGroups([20, 20, 20, 20]), [[0, 1, 2, 3]]);
  });

  it('splits far-apart lengths, and a single input is its own group', () => {
    assert.deepEqual(lengthGroups([10, 100]), [[0], [1]]);
    assert.deepEqual(lengthGroups([7]), [[0]]);
    assert.deepEqual(lengthGroups([]), []);
    // Share 0: only equal lengths batch together.
    assert.deepEqual(lengthGroups([5, 6, 5], 0), [[0, 2], [1]]);
  });
});
