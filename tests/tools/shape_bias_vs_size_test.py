# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The shape-bias-vs-size script's parsing, counting and plot."""

import os
import tempfile

from absl.testing import absltest
import jax
from praxis import base_layer

from vit22b_pax.layers import variants
from vit22b_pax.tools import shape_bias_vs_size as sbs


class ShapeBiasVsSizeTest(absltest.TestCase):

  def test_parse_sizes(self):
    self.assertEqual(sbs.parse_sizes('32x2,64x3,128x4'),
                     [(32, 2), (64, 3), (128, 4)])
    with self.assertRaisesRegex(ValueError, "'64'.*WIDTHxDEPTH"):
      sbs.parse_sizes('32x2,64,128x4')
    with self.assertRaisesRegex(ValueError, 'multiple of 32'):
      sbs.parse_sizes('30x2,64x3,128x4')
    with self.assertRaisesRegex(ValueError, 'at least 3 sizes'):
      sbs.parse_sizes('32x2,64x3')

  def test_num_params_matches_the_encoder(self):
    width, depth = 64, 2
    cfg = variants.encoder_config('Ti/8', 32, model_dims=width,
                                  num_layers=depth, num_heads=2,
                                  hidden_dims=4 * width, pooling='gap')
    layer = base_layer.instantiate(cfg)
    shapes = jax.eval_shape(
        lambda: layer.init(jax.random.PRNGKey(0),
                           jax.numpy.zeros((1, 32, 32, 3))))
    counted = sum(int(x.size) for x in jax.tree_util.tree_leaves(
        shapes['params']))
    self.assertEqual(sbs.num_params(width, depth), counted)

  def test_plot_writes_png(self):
    path = os.path.join(tempfile.mkdtemp(), 'p.png')
    rows = [dict(size=f'{w}x2', params=sbs.num_params(w, 2),
                 shape_bias=b, test_accuracy=0.5)
            for w, b in ((32, 0.4), (64, 0.5), (128, 0.6))]
    sbs.plot(rows, path)
    with open(path, 'rb') as f:
      self.assertEqual(f.read(8), b'\x89PNG\r\n\x1a\n')


if __name__ == '__main__':
  absltest.main()
