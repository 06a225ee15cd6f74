# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Temporal heads against numpy references."""

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
from praxis import base_layer
from praxis import pax_fiddle
from praxis import test_utils

from tests.layers import map_head_test
from tests.layers import parallel_block_test as pbt
from vit22b_pax.layers import temporal

D, N, T, S, B = 16, 4, 3, 5, 2


def _apply(layer, variables, x):
  with base_layer.JaxContext.new_context():
    return np.asarray(layer.apply(variables, x))


class TemporalMAPHeadTest(test_utils.TestCase):

  def _layer(self, **kw):
    return base_layer.instantiate(pax_fiddle.Config(
        temporal.TemporalMAPHead, name='head', model_dims=D, num_frames=T,
        num_heads=N, **kw))

  def test_matches_numpy(self):
    layer = self._layer(hidden_dims=24)
    x = np.random.default_rng(0).normal(size=(B, T, S, D)).astype(np.float32)
    variables = pbt.init_random(layer, x)
    p = variables['params']
    self.assertEqual(p['time_emb'].shape, (T, D))
    y = _apply(layer, variables, x)
    tokens = x + np.asarray(p['time_emb'])[None, :, None, :]
    want = map_head_test.np_map_head(tokens.reshape(B, T * S, D), p['pool'],
                                     N)
    self.assertAllClose(want, y, rtol=2e-5, atol=2e-5, check_dtypes=False)

  def test_time_embedding_breaks_frame_permutation_symmetry(self):
    layer = self._layer()
    x = np.random.default_rng(1).normal(size=(B, T, S, D)).astype(np.float32)
    variables = pbt.init_random(layer, x)
    reversed_x = x[:, ::-1]
    self.assertGreater(np.abs(_apply(layer, variables, x) -
                              _apply(layer, variables, reversed_x)).max(),
                       1e-3)
    variables['params']['time_emb'] = np.zeros((T, D), np.float32)
    self.assertAllClose(_apply(layer, variables, x),
                        _apply(layer, variables, reversed_x), atol=1e-5)

  def test_wrong_frame_count(self):
    layer = self._layer()
    x = np.zeros((B, T, S, D), np.float32)
    variables = pbt.init_random(layer, x)
    with self.assertRaisesRegex(ValueError, r'T=3 frames.*\(2, 4, 5, 16\)'):
      _apply(layer, variables, np.zeros((B, T + 1, S, D), np.float32))


class TemporalTransformerHeadTest(test_utils.TestCase):

  @parameterized.parameters(('mean', 1), ('map', 2))
  def test_matches_numpy(self, pooling, num_layers):
    layer = base_layer.instantiate(pax_fiddle.Config(
        temporal.TemporalTransformerHead, name='head', model_dims=D,
        num_frames=T, num_heads=N, hidden_dims=32, num_layers=num_layers,
        pooling=pooling, block_tpl=pax_fiddle.Config(
            temporal.parallel_block.ViT22BBlock, fused=False,
            use_bias=('qkv', 'mlp', 'out'))))
    x = np.random.default_rng(2).normal(size=(B, T, D)).astype(np.float32)
    variables = pbt.init_random(layer, x)
    p = variables['params']
    y = _apply(layer, variables, x)
    h = x + np.asarray(p['time_emb'])[None]
    for i in range(num_layers):
      h, _ = pbt.np_block(h, p[f'blocks_{i}'], True, True, 'rmsnorm')
    h = pbt.np_norm(h, np.asarray(p['norm']['scale']), 'rmsnorm')
    if pooling == 'map':
      want = map_head_test.np_map_head(h, p['pool'], N)
    else:
      want = h.mean(1)
    self.assertEqual(y.shape, (B, D))
    self.assertAllClose(want, y, rtol=5e-5, atol=5e-5, check_dtypes=False)

  def test_bad_config(self):
    for kw, msg in ((dict(pooling='max'), "Unknown pooling 'max'"),
                    (dict(num_layers=0), 'num_layers=0'),
                    (dict(num_heads=3), 'num_heads=3 must divide')):
      layer = base_layer.instantiate(pax_fiddle.Config(
          temporal.TemporalTransformerHead, name='head', model_dims=D,
          num_frames=T, **{'num_heads': N, **kw}))
      with self.assertRaisesRegex(ValueError, msg):
        pbt.init_random(layer, np.zeros((B, T, D), np.float32))


if __name__ == '__main__':
  absltest.main()
