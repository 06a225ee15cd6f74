# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of the DPT decoder."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import numpy as np
from praxis import base_layer
from praxis import pax_fiddle
from praxis import test_utils

from tests.layers import decoders_test as dt
from vit22b_pax.layers import dpt

D = 12


def dpt_config(**kwargs):
  fields = dict(name='dpt', input_dims=D, num_outputs=1,
                reassemble_dims=(4, 6, 8, 8), fusion_dims=8, head_dims=4)
  fields.update(kwargs)
  return pax_fiddle.Config(dpt.DPTDecoder, **fields)


class DPTTest(test_utils.TestCase):

  @parameterized.named_parameters(
      ('square', (2, 4, 4, D), (32, 32)),
      ('wide', (1, 3, 5, D), (48, 80)),
      ('odd_grid', (1, 3, 3, D), (21, 21)),
      ('tall_one_row', (1, 1, 2, D), (16, 32)),
  )
  def test_output_shapes(self, shape, image_hw):
    out, _ = dt.run(dpt_config(), dt.features(shape, 4), image_hw)
    self.assertEqual(out.shape, (shape[0], *image_hw, 1))
    self.assertTrue(np.all(np.isfinite(out)))

  def test_reassemble_scales(self):
    layer = base_layer.instantiate(dpt_config())
    feats = dt.features((2, 3, 5, D), 4)
    with base_layer.JaxContext.new_context():
      v = layer.init(jax.random.PRNGKey(0), feats, (24, 40))
      levels = layer.apply(v, feats, method=layer.reassemble)
    self.assertEqual([lv.shape for lv in levels],
                     [(2, 12, 20, 8), (2, 6, 10, 8), (2, 3, 5, 8),
                      (2, 2, 3, 8)])

  def test_every_feature_reaches_the_output(self):
    layer = base_layer.instantiate(dpt_config(num_outputs=3))
    feats = dt.features((1, 2, 3, D), 4)
    with base_layer.JaxContext.new_context():
      v = layer.init(jax.random.PRNGKey(0), feats, (16, 24))
      grads = jax.grad(lambda f: layer.apply(v, f, (16, 24)).sum())(feats)
    for g in grads:
      self.assertGreater(float(np.abs(g).sum()), 0.0)

  def test_needs_four_features(self):
    layer = base_layer.instantiate(dpt_config())
    with self.assertRaisesRegex(ValueError, 'expects 4 feature maps, got 3'):
      with base_layer.JaxContext.new_context():
        layer.init(jax.random.PRNGKey(0), dt.features((1, 2, 2, D), 3),
                   (16, 16))

  def test_bad_dims(self):
    layer = base_layer.instantiate(dpt_config(reassemble_dims=(4, 6, 8)))
    with self.assertRaisesRegex(ValueError, r'reassemble_dims=\(4, 6, 8\) '
                                'must be 4 positive ints'):
      with base_layer.JaxContext.new_context():
        layer.init(jax.random.PRNGKey(0), dt.features((1, 2, 2, D), 4),
                   (16, 16))


if __name__ == '__main__':
  absltest.main()
