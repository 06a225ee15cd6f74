# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of the size table, decode_variant and encoder_config."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
from jax import numpy as jnp
from praxis import base_layer
from praxis import test_utils

from vit22b_pax.layers import encoder
from vit22b_pax.layers import variants


def abstract_params(cfg, image_size):
  layer = base_layer.instantiate(cfg)
  images = jax.ShapeDtypeStruct((2, image_size, image_size, 3), jnp.float32)

  def init(key, x):
    with base_layer.JaxContext.new_context():
      return layer.init(key, x)

  def apply(v, x):
    with base_layer.JaxContext.new_context():
      return layer.apply(v, x)

  params = jax.eval_shape(init, jax.random.PRNGKey(0), images)
  out = jax.eval_shape(apply, params, images)
  return params['params'], out


class VariantsTest(test_utils.TestCase):

  @parameterized.parameters(*variants.ORDER)
  def test_abstract_shapes(self, name):
    v, patch = variants.decode_variant(name)
    params, out = abstract_params(variants.encoder_config(name), 224)
    d, f, n, l = v.model_dims, v.hidden_dims, v.num_heads, v.num_layers
    h, g, t = d // n, f // n, (224 // patch)**2
    blk = params['blocks']['block']
    self.assertEqual(blk['w_in'].shape, (l, d, n, 3 * h + g))
    self.assertEqual(blk['w_out'].shape, (l, n, h + g, d))
    self.assertEqual(params['patch_w'].shape, (patch, patch, 3, d))
    self.assertEqual(params['pos_emb'].shape, (1, t, d))
    self.assertEqual(out.shape, (2, d))

  def test_decode_variant(self):
    v, patch = variants.decode_variant('22B/14')
    self.assertEqual((v.model_dims, v.num_layers, v.hidden_dims, v.num_heads,
                      v.dim_per_head, patch), (6144, 48, 24576, 48, 128, 14))
    self.assertEqual(variants.decode_variant('B/8')[1], 8)
    self.assertEqual(variants.decode_variant('L')[1], 16)

  @parameterized.named_parameters(
      ('variant', lambda: variants.decode_variant('X/16'),
       r"Unknown ViT variant 'X/16'; expected one of Ti/16"),
      ('patch', lambda: variants.decode_variant('B/0'),
       'must be positive, got 0'),
      ('image', lambda: variants.encoder_config('B/16', image_size=200),
       'image_size 200 is not divisible by the patch size 16'),
      ('override', lambda: variants.encoder_config('B/16', depth=3),
       "Unknown encoder_config override 'depth'"),
      ('heads', lambda: variants.encoder_config('B/16', num_heads=5),
       'num_heads=5 does not divide model_dims=768'),
  )
  def test_errors(self, fn, message):
    with self.assertRaisesRegex(ValueError, message):
      fn()

  def test_overrides(self):
    cfg = variants.encoder_config('S/16', image_size=384, parallel=False,
                                  qk_norm=False, num_layers=2, pooling='gap')
    self.assertIs(cfg.cls, encoder.ViT22BEncoder)
    self.assertEqual(cfg.pos_emb_grid, (24, 24))
    self.assertEqual((cfg.num_layers, cfg.pooling), (2, 'gap'))
    self.assertEqual((cfg.block_tpl.parallel, cfg.block_tpl.fused,
                      cfg.block_tpl.qk_norm), (False, False, False))

  def test_norm_bias_reaches_block_and_final_norm(self):
    cfg = variants.encoder_config('Ti/16', 32, num_layers=1,
                                  norm_type='layernorm', norm_bias=True)
    self.assertTrue(cfg.block_tpl.norm_bias)
    params, _ = abstract_params(cfg, 32)
    self.assertIn('bias', params['encoder_norm'])
    self.assertIn('bias', params['blocks']['block']['norm'])
    self.assertNotIn('bias', params['blocks']['block']['q_norm'])


if __name__ == '__main__':
  absltest.main()
