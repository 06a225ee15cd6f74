# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of the model table (parameter counts, FLOPs, JSON output)."""

import json
import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
from praxis import test_utils

from vit22b_pax.layers import variants
from vit22b_pax.tools import model_table


def expected_encoder_params(name, image_size=224):
  """Hand count, default block (fused, RMSNorm, QK-norm, MLP/out bias)."""
  v, p = variants.decode_variant(name)
  d, f, h = v.model_dims, v.hidden_dims, v.dim_per_head
  block = d * (3 * d + f) + (d + f) * d + f + d + d + 2 * h
  stem = p * p * 3 * d + d + (image_size // p)**2 * d
  return v.num_layers * block + stem + d


class ModelTableTest(test_utils.TestCase):

  @parameterized.parameters('Ti/16', 'B/16', '22B/14')
  def test_param_counts(self, name):
    counts = model_table.param_counts(name)
    self.assertEqual(counts['encoder'], expected_encoder_params(name))
    d = variants.decode_variant(name)[0].model_dims
    f = variants.decode_variant(name)[0].hidden_dims
    # probe + q/k/v/out (+biases) + norm (+bias) + MLP (+biases).
    self.assertEqual(counts['map_head'],
                     d + 4 * d * d + 4 * d + 2 * d + 2 * d * f + f + d)

  def test_22b_matches_paper(self):
    counts = model_table.param_counts('22B/14')
    self.assertLess(abs(counts['encoder'] / 21_743e6 - 1), 0.005)

  def test_flops(self):
    # B/16 at 224: 196 tokens; forward 2 N + 4 L D T per token, N = blocks
    # + patch embedding + final norm (no position embedding).
    d, t = 768, 196
    n = expected_encoder_params('B/16') - t * d
    self.assertAlmostEqual(model_table.forward_gflops('B/16'),
                           t * (2 * n + 4 * 12 * d * t) / 1e9)

  def test_main_json(self):
    with tempfile.TemporaryDirectory() as tmp:
      out = os.path.join(tmp, 'table.json')
      rows = model_table.main(['--variants', 'Ti/16', '22B/14', '--json',
                               out])
      with open(out) as f:
        data = json.load(f)
    self.assertEqual(data['rows'], rows)
    self.assertEqual([r['variant'] for r in rows], ['Ti/16', '22B/14'])
    self.assertLess(abs(rows[1]['diff_pct']), 0.5)


if __name__ == '__main__':
  absltest.main()
