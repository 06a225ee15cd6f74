# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of ViT22BEncoder.features (intermediate block outputs)."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import numpy as np
from praxis import base_layer
from praxis import test_utils

from tests.layers import encoder_test as et
from tests.layers import parallel_block_test as pbt
from vit22b_pax.layers import encoder
from vit22b_pax.layers import parallel_block as pb

L = 3


def np_hidden_states(images, params, cfg):
  """Every block's output of an unfused numpy loop (scan param tree)."""
  x = et.np_patches(images.astype(np.float64), np.asarray(params['patch_w']),
                    np.asarray(params['patch_b']))
  gh, gw = images.shape[1] // et.P, images.shape[2] // et.P
  pos = np.asarray(params['pos_emb'], np.float64)[0]
  if (gh, gw) != tuple(cfg.pos_emb_grid):
    pos = et.np_resize_bilinear(pos.reshape(*cfg.pos_emb_grid, et.D), gh, gw)
  x = x + pos.reshape(gh * gw, et.D)
  if cfg.cls_token:
    cls = np.broadcast_to(np.asarray(params['cls']), (x.shape[0], 1, et.D))
    x = np.concatenate([cls, x], axis=1)
  blk = cfg.block_tpl
  states = []
  for i in range(cfg.num_layers):
    p = jax.tree_util.tree_map(lambda a, i=i: np.asarray(a)[i],
                               params['blocks']['block'])
    p = pb.fused_to_unfused(p, blk.use_bias)
    x, _ = pbt.np_block(x, p, blk.parallel, blk.qk_norm, blk.norm_type)
    states.append(x)
  return states


def unstack(params, num_layers):
  """Scan param tree ('blocks/block' [L, ...]) -> 'blocks_i' children."""
  params = dict(params)
  stacked = params.pop('blocks')['block']
  for i in range(num_layers):
    params[f'blocks_{i}'] = jax.tree_util.tree_map(lambda a, i=i: a[i],
                                                   stacked)
  return params


def run(cfg, variables, images, method=None):
  layer = base_layer.instantiate(cfg)
  with base_layer.JaxContext.new_context():
    if method is None:
      return layer.apply(variables, images)
    return layer.apply(variables, images, method=getattr(layer, method))


class EncoderFeaturesTest(test_utils.TestCase):

  def setUp(self):
    super().setUp()
    # Non-square image with a resampled posemb: 12x20 px -> 3x5 patches.
    self.images = np.random.default_rng(3).normal(
        size=(2, 12, 20, et.C)).astype(np.float32)
    base = et.encoder_config(num_layers=L, pooling='gap')
    self.variables = pbt.init_random(base_layer.instantiate(base),
                                     self.images, seed=4)

  @parameterized.named_parameters(
      ('scan', True, (2, 0), False, None),
      ('scan_remat_cls', True, (1,), True, 'save_nothing'),
      ('unrolled', False, (0, 2), False, None),
      ('unrolled_remat_cls', False, (1, 2), True, 'save_dot_only'),
  )
  def test_features_match_unfused_loop(self, scan, layers, cls_token, remat):
    cfg = et.encoder_config(num_layers=L, pooling='gap', scan=scan,
                            feature_layers=layers, cls_token=cls_token,
                            remat_policy=remat)
    scan_cfg = cfg.clone()
    scan_cfg.scan = True
    variables = pbt.init_random(base_layer.instantiate(scan_cfg),
                                self.images, seed=4)
    params = variables['params']
    run_vars = variables if scan else {'params': unstack(params, L)}
    pooled, feats = run(cfg, run_vars, self.images, 'features')
    states = np_hidden_states(self.images, params, cfg)
    self.assertLen(feats, len(layers))
    for got, i in zip(feats, layers):
      self.assertEqual(got.shape, (2, 3, 5, et.D))
      want = states[i][:, int(cls_token):].reshape(2, 3, 5, et.D)
      self.assertAllClose(want, got, rtol=5e-5, atol=5e-5,
                          check_dtypes=False)
    # The pooled output is the default __call__'s, from the same pass.
    default = cfg.clone()
    default.feature_layers = ()
    self.assertAllClose(run(default, run_vars, self.images), pooled,
                        rtol=1e-6, atol=1e-6)

  @parameterized.named_parameters(('scan', True), ('unrolled', False))
  def test_default_path_unchanged(self, scan):
    """Same parameter tree, and feature_layers leaves the output unchanged."""
    default = et.encoder_config(num_layers=L, pooling='map', scan=scan)
    with_feats = et.encoder_config(num_layers=L, pooling='map', scan=scan,
                                   feature_layers=(0, 1, 2))
    shapes = []
    for cfg in (default, with_feats):
      layer = base_layer.instantiate(cfg)
      with base_layer.JaxContext.new_context():
        v = layer.init(jax.random.PRNGKey(0), self.images)
      shapes.append(jax.tree_util.tree_map(np.shape, v))
    self.assertEqual(shapes[0], shapes[1])
    layer = base_layer.instantiate(default)
    variables = pbt.init_random(layer, self.images, seed=5)
    y0 = run(default, variables, self.images)
    y1 = run(with_feats, variables, self.images)
    y2, _ = run(with_feats, variables, self.images, 'features')
    self.assertArraysEqual(y0, y1)
    self.assertArraysEqual(y0, y2)

  def test_gradients_through_features(self):
    """Scanned and unrolled feature gradients agree (backbone training)."""
    layers = (0, 2)
    cfg_s = et.encoder_config(num_layers=L, pooling='gap',
                              feature_layers=layers,
                              remat_policy='save_nothing')
    cfg_u = et.encoder_config(num_layers=L, pooling='gap', scan=False,
                              feature_layers=layers)
    params = self.variables['params']

    def loss(cfg, v):
      pooled, feats = run(cfg, v, self.images, 'features')
      return (pooled ** 2).sum() + sum((f ** 3).mean() for f in feats)

    gs = jax.grad(lambda v: loss(cfg_s, v))(self.variables)
    gu = jax.grad(lambda v: loss(cfg_u, v))({'params': unstack(params, L)})
    for i in range(L):
      self.assertAllClose(gs['params']['blocks']['block']['w_in'][i],
                          gu['params'][f'blocks_{i}']['w_in'],
                          rtol=1e-4, atol=1e-5)
    self.assertAllClose(gs['params']['patch_w'], gu['params']['patch_w'],
                        rtol=1e-4, atol=1e-5)

  def test_evenly_spaced_layers(self):
    self.assertEqual(encoder.evenly_spaced_layers(12), (2, 5, 8, 11))
    self.assertEqual(encoder.evenly_spaced_layers(24), (5, 11, 17, 23))
    self.assertEqual(encoder.evenly_spaced_layers(4), (0, 1, 2, 3))
    self.assertEqual(encoder.evenly_spaced_layers(48, 2), (23, 47))
    with self.assertRaisesRegex(ValueError, r'count=5 must be in \[1, '
                                r'num_layers=4\]'):
      encoder.evenly_spaced_layers(4, 5)

  @parameterized.named_parameters(
      ('range', (0, 3), r'feature_layers=\(0, 3\) must be distinct block '
       r'indices in \[0, num_layers=3\)'),
      ('negative', (-1,), r'feature_layers=\(-1,\)'),
      ('repeated', (1, 1), r'feature_layers=\(1, 1\)'),
  )
  def test_bad_feature_layers(self, layers, message):
    cfg = et.encoder_config(num_layers=L, feature_layers=layers)
    with self.assertRaisesRegex(ValueError, message):
      with base_layer.JaxContext.new_context():
        base_layer.instantiate(cfg).init(jax.random.PRNGKey(0), self.images)

  def test_features_need_layers(self):
    cfg = et.encoder_config(num_layers=L)
    with self.assertRaisesRegex(ValueError, 'features\\(\\) needs '
                                'feature_layers, e.g. \\(0, 1, 2\\)'):
      run(cfg, self.variables, self.images, 'features')


if __name__ == '__main__':
  absltest.main()
