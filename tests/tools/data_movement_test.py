# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Structural guard of issue 22: the fused block's data movement on CPU.

No timing: one ViT-B/16 block (D 768, 12 heads, MLP 3072, 197 tokens,
float32), forward and backward, compiled for XLA:CPU in each form; bytes of
copies / transposes / concatenations / slices / pads in the optimized HLO
(`core.hlo.data_movement`). Before the fix the fused block moved 224.1 MiB
at batch 4 (448.2 at batch 8) against the sequential block's 78.6 (157.3):
its split and concatenation of activations cost bytes proportional to the
batch. Compiling the forms takes about 3 s each on an idle core.
"""

import io
import json
import os
import tempfile
import unittest
from unittest import mock

from absl.testing import absltest

from vit22b_pax.tools import data_movement as dm

MIB = dm.MIB


class DataMovementTest(absltest.TestCase):

  def test_fused_moves_only_its_weight_split_beyond_sequential(self):
    fused, seq = dm.measure('fused'), dm.measure('sequential')
    # The stored [D, N, E] / [N, O, D] layout is split per step: each weight
    # segment is sliced (counted in its fusion and as the buffer written)
    # and the gradient concatenated: 3x the fused weights' bytes, 81 MiB.
    # Any activation slice, pad or concatenation on top fails this.
    self.assertLessEqual(fused.bytes,
                         seq.bytes + 3 * dm.fused_weight_bytes())
    self.assertLessEqual(fused.ops, seq.ops + 10)

  def test_fused_excess_does_not_grow_with_the_batch(self):
    # No activation-sized copy tax: what the fused block moves beyond the
    # sequential one is the same at batch 2 and batch 4 (it doubled with
    # the batch before: 145.4 -> 290.9 MiB from batch 4 to 8).
    excess = {b: dm.measure('fused', batch=b).bytes
                 - dm.measure('sequential', batch=b).bytes for b in (2, 4)}
    self.assertLess(abs(excess[4] - excess[2]), 1 * MIB, excess)

  @unittest.expectedFailure
  def test_fused_no_more_than_sequential(self):
    # The target, not reached with the stored fused layout: 159.6
    # vs 78.6 MiB at batch 4, the 81 MiB of the weight split. Reaching it
    # needs the train state to hold the weight segments as separate arrays
    # (a parameter-layout change, converting checkpoints at load).
    # When a change gets there this "unexpectedly succeeds": drop the
    # decorator so the test guards it.
    self.assertLessEqual(dm.measure('fused').bytes,
                         dm.measure('sequential').bytes)

  def test_cli_and_bad_input(self):
    with tempfile.TemporaryDirectory() as tmp:
      out = os.path.join(tmp, 'dm.json')
      with mock.patch('sys.stdout', new_callable=io.StringIO) as stdout:
        self.assertEqual(dm.main(['--batch', '2', '--forms',
                                  'fused,sequential', '--json', out]), 0)
      with open(out) as f:
        got = json.load(f)
    self.assertEqual([r['form'] for r in got['results']],
                     ['fused', 'sequential'])
    self.assertEqual(got['results'][0]['bytes'],
                     dm.measure('fused', batch=2).bytes)
    self.assertIn('x sequential', stdout.getvalue())
    with self.assertRaisesRegex(ValueError, "Unknown form 'fast'"):
      dm.measure('fast')
    with self.assertRaisesRegex(ValueError, 'batch and tokens must be >= 1'):
      dm.measure('fused', batch=0)


if __name__ == '__main__':
  absltest.main()
