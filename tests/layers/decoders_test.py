# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of the linear and progressive dense decoders."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import numpy as np
from praxis import base_layer
from praxis import pax_fiddle
from praxis import test_utils

from tests.layers import encoder_test as et
from tests.layers import parallel_block_test as pbt
from vit22b_pax.layers import decoders

D, K = 12, 5


def run(cfg, feats, image_hw, seed=2):
  layer = base_layer.instantiate(cfg)
  with base_layer.JaxContext.new_context():
    v = layer.init(jax.random.PRNGKey(0), feats, image_hw)
    v = {'params': pbt.randomize(v['params'], seed)}
    return layer.apply(v, feats, image_hw), v['params']


def features(shape, count, seed=0):
  rng = np.random.default_rng(seed)
  return [rng.normal(size=shape).astype(np.float32) for _ in range(count)]


class DecodersTest(test_utils.TestCase):

  def test_linear_decoder_matches_numpy(self):
    cfg = pax_fiddle.Config(decoders.LinearDecoder, name='dec', input_dims=D,
                            num_outputs=K, feature_index=0)
    feats = features((2, 3, 5, D), 2)
    out, p = run(cfg, feats, (12, 20))
    self.assertEqual(out.shape, (2, 12, 20, K))
    x = feats[0].astype(np.float64)
    x = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True)
                                                  + 1e-6)
    x = x * (1 + p['norm']['scale']) + p['norm']['bias']
    y = x @ p['head']['linear']['w'] + p['head']['bias']['b']
    want = np.stack([et.np_resize_bilinear(y[i], 12, 20) for i in range(2)])
    self.assertAllClose(want, out, rtol=2e-5, atol=2e-5, check_dtypes=False)

  @parameterized.named_parameters(
      ('square', (2, 4, 4, D), (32, 32)),
      ('wide', (1, 3, 5, D), (24, 40)),
      ('odd_target', (2, 3, 2, D), (25, 17)),
  )
  def test_progressive_decoder_shapes(self, shape, image_hw):
    cfg = pax_fiddle.Config(decoders.ProgressiveDecoder, name='dec',
                            input_dims=D, num_outputs=K, num_features=3,
                            hidden_dims=8)
    out, _ = run(cfg, features(shape, 3), image_hw)
    self.assertEqual(out.shape, (shape[0], *image_hw, K))
    self.assertTrue(np.all(np.isfinite(out)))

  def test_progressive_decoder_uses_every_feature(self):
    cfg = pax_fiddle.Config(decoders.ProgressiveDecoder, name='dec',
                            input_dims=D, num_outputs=K, num_features=3,
                            hidden_dims=8)
    layer = base_layer.instantiate(cfg)
    feats = features((1, 3, 4, D), 3)
    with base_layer.JaxContext.new_context():
      v = layer.init(jax.random.PRNGKey(0), feats, (24, 32))
      grads = jax.grad(lambda f: layer.apply(v, f, (24, 32)).sum())(feats)
    for g in grads:
      self.assertGreater(float(np.abs(g).sum()), 0.0)

  def test_depth_to_space_is_kernel_equals_stride_transposed_conv(self):
    rng = np.random.default_rng(4)
    s, c_in, c = 2, 3, 4
    x = rng.normal(size=(2, 3, 5, c_in)).astype(np.float32)
    kernel = rng.normal(size=(s, s, c_in, c)).astype(np.float32)
    # Transposed conv, kernel = stride:
    #   out[b, i*s+p, j*s+q] = x[b, i, j] k[p, q].
    want = np.einsum('bijc,pqco->bipjqo', x, kernel).reshape(2, 6, 10, c)
    w = np.transpose(kernel, (2, 0, 1, 3)).reshape(c_in, s * s * c)
    got = decoders.depth_to_space(x @ w, s)
    self.assertAllClose(want, got, atol=1e-5, check_dtypes=False)
    # The same as jax's transposed conv (which correlates with the flipped
    # kernel, as a gradient of conv).
    lax = jax.lax.conv_transpose(x, kernel[::-1, ::-1], (s, s), 'VALID',
                                 dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
    self.assertAllClose(lax, got, atol=1e-5)

  @parameterized.named_parameters(
      ('none', [], 'got no features'),
      ('width', [np.zeros((1, 2, 2, D + 1), np.float32)],
       r'must be \[B, h, w, 12\], got \(1, 2, 2, 13\)'),
  )
  def test_bad_features(self, feats, message):
    cfg = pax_fiddle.Config(decoders.LinearDecoder, name='dec', input_dims=D,
                            num_outputs=K)
    layer = base_layer.instantiate(cfg)
    with self.assertRaisesRegex(ValueError, message):
      with base_layer.JaxContext.new_context():
        layer.init(jax.random.PRNGKey(0), feats, (8, 8))

  def test_progressive_needs_its_feature_count(self):
    cfg = pax_fiddle.Config(decoders.ProgressiveDecoder, name='dec',
                            input_dims=D, num_outputs=K, num_features=3)
    layer = base_layer.instantiate(cfg)
    with self.assertRaisesRegex(ValueError, 'expects 3 feature maps, got 2'):
      with base_layer.JaxContext.new_context():
        layer.init(jax.random.PRNGKey(0), features((1, 2, 2, D), 2), (8, 8))


if __name__ == '__main__':
  absltest.main()
