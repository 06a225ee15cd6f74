# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of ViT22BEncoder against a numpy reference."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import numpy as np
from praxis import base_layer
from praxis import pax_fiddle
from praxis import test_utils

from tests.layers import map_head_test
from tests.layers import parallel_block_test as pbt
from vit22b_pax.layers import encoder
from vit22b_pax.layers import parallel_block as pb

D, N, F, P, C, L = 16, 4, 32, 4, 3, 2


def encoder_config(**kwargs):
  p = pax_fiddle.Config(encoder.ViT22BEncoder, name='encoder', model_dims=D,
                        num_layers=L, num_heads=N, hidden_dims=F,
                        patch_size=P, num_channels=C, pos_emb_grid=(2, 3))
  for k, v in kwargs.items():
    setattr(p, k, v)
  return p


def np_patches(images, w, b):
  """Loop over patches: flatten each [P, P, C] patch and project."""
  bsz, hi, wi, c = images.shape
  p = w.shape[0]
  out = []
  for i in range(hi // p):
    for j in range(wi // p):
      patch = images[:, i * p:(i + 1) * p, j * p:(j + 1) * p, :]
      out.append(patch.reshape(bsz, -1) @ w.reshape(p * p * c, -1) + b)
  return np.stack(out, axis=1)


def np_resize_bilinear(grid, out_h, out_w):
  """Half-pixel-centre bilinear upsampling of [h, w, D] (edges clamped)."""
  def weights(n_in, n_out):
    src = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    m = np.zeros((n_out, n_in))
    m[np.arange(n_out), lo] += 1 - (src - lo)
    m[np.arange(n_out), hi] += src - lo
    return m
  return np.einsum('ih,jw,hwd->ijd', weights(grid.shape[0], out_h),
                   weights(grid.shape[1], out_w), grid)


def np_encoder(images, params, cfg):
  """Reference forward of the whole encoder (scan=True param tree)."""
  x = np_patches(images.astype(np.float64), np.asarray(params['patch_w']),
                 np.asarray(params['patch_b']))
  gh, gw = images.shape[1] // P, images.shape[2] // P
  pos = np.asarray(params['pos_emb'], np.float64)[0]
  if (gh, gw) != tuple(cfg.pos_emb_grid):
    pos = np_resize_bilinear(pos.reshape(*cfg.pos_emb_grid, D), gh, gw)
  x = x + pos.reshape(gh * gw, D)
  if cfg.cls_token:
    cls = np.broadcast_to(np.asarray(params['cls']), (x.shape[0], 1, D))
    x = np.concatenate([cls, x], axis=1)
  blk = cfg.block_tpl
  for i in range(L):
    p = jax.tree_util.tree_map(lambda a, i=i: np.asarray(a)[i],
                               params['blocks']['block'])
    if blk.fused:
      p = pb.fused_to_unfused(p, blk.use_bias)
    x, _ = pbt.np_block(x, p, blk.parallel, blk.qk_norm, blk.norm_type)
  x = pbt.np_norm(x, np.asarray(params['encoder_norm']['scale']),
                  blk.norm_type)
  if cfg.pooling == 'map':
    return map_head_test.np_map_head(x, params['map_head'], N)
  if cfg.pooling == 'gap':
    return x[:, int(cfg.cls_token):].mean(1)
  return x[:, 0]


class EncoderTest(test_utils.TestCase):

  def setUp(self):
    super().setUp()
    rng = np.random.default_rng(0)
    self.images = rng.normal(size=(2, 8, 12, C)).astype(np.float32)

  def _run(self, cfg, images, variables=None):
    layer = base_layer.instantiate(cfg)
    if variables is None:
      variables = pbt.init_random(layer, images)
    with base_layer.JaxContext.new_context():
      return layer.apply(variables, images), variables

  @parameterized.named_parameters(
      ('map', dict(pooling='map')),
      ('gap_cls_resampled', dict(pooling='gap', cls_token=True), (16, 20)),
      ('cls_sequential', dict(pooling='cls', cls_token=True,
                              block_tpl=pax_fiddle.Config(
                                  pb.ViT22BBlock, parallel=False,
                                  fused=False, norm_type='layernorm'))),
  )
  def test_matches_numpy(self, overrides, image_hw=(8, 12)):
    cfg = encoder_config(**overrides)
    images = np.random.default_rng(1).normal(
        size=(2, *image_hw, C)).astype(np.float32)
    y, variables = self._run(cfg, images)
    self.assertEqual(y.shape, (2, D))
    ref = np_encoder(images, variables['params'], cfg)
    self.assertAllClose(ref, y, rtol=5e-5, atol=5e-5, check_dtypes=False)

  def test_patch_embedding(self):
    layer = base_layer.instantiate(encoder_config())
    variables = pbt.init_random(layer, self.images)
    with base_layer.JaxContext.new_context():
      tokens, grid = layer.apply(variables, self.images,
                                 method=layer.embed_patches)
    self.assertEqual(grid, (2, 3))
    p = variables['params']
    self.assertAllClose(np_patches(self.images, p['patch_w'], p['patch_b']),
                        tokens, rtol=1e-5, atol=1e-5, check_dtypes=False)

  def test_posemb_resampling(self):
    layer = base_layer.instantiate(encoder_config())
    variables = pbt.init_random(layer, self.images)
    with base_layer.JaxContext.new_context():
      same = layer.apply(variables, (2, 3), method=layer.position_embedding)
      big = layer.apply(variables, (5, 7), method=layer.position_embedding)
    stored = np.asarray(variables['params']['pos_emb'])
    self.assertArraysEqual(stored, same)
    ref = np_resize_bilinear(stored[0].reshape(2, 3, D), 5, 7)
    self.assertAllClose(ref.reshape(1, 35, D), big, check_dtypes=False)

  def test_scan_remat_equal_unrolled(self):
    scanned = encoder_config(pooling='gap', remat_policy='save_nothing')
    unrolled = encoder_config(pooling='gap', scan=False,
                              remat_policy='SAVE_DOT_ONLY')
    layer_s = base_layer.instantiate(scanned)
    layer_u = base_layer.instantiate(unrolled)
    variables = pbt.init_random(layer_s, self.images)
    params = dict(variables['params'])
    stacked = params.pop('blocks')['block']
    for i in range(L):
      params[f'blocks_{i}'] = jax.tree_util.tree_map(lambda a, i=i: a[i],
                                                     stacked)
    unrolled_vars = {'params': params}

    def loss(layer, v):
      with base_layer.JaxContext.new_context():
        return (layer.apply(v, self.images) ** 2).sum()

    ls, gs = jax.value_and_grad(lambda v: loss(layer_s, v))(variables)
    lu, gu = jax.value_and_grad(lambda v: loss(layer_u, v))(unrolled_vars)
    self.assertAllClose(ls, lu)
    self.assertAllClose(gs['params']['blocks']['block']['w_in'][1],
                        gu['params']['blocks_1']['w_in'])
    self.assertAllClose(gs['params']['patch_w'], gu['params']['patch_w'])

  @parameterized.named_parameters(
      ('side', (2, 10, 12, C), 'Image size 10x12 is not divisible by '
       'patch_size 4'),
      ('channels', (2, 8, 12, 1), 'Expected 3 image channels, got 1'),
  )
  def test_bad_images(self, shape, message):
    layer = base_layer.instantiate(encoder_config())
    with self.assertRaisesRegex(ValueError, message):
      with base_layer.JaxContext.new_context():
        layer.init(jax.random.PRNGKey(0), np.zeros(shape, np.float32))

  @parameterized.named_parameters(
      ('heads', dict(num_heads=3), 'num_heads=3 does not divide '
       'model_dims=16'),
      ('pooling', dict(pooling='max'), "Unknown pooling 'max'"),
      ('cls', dict(pooling='cls'), "pooling='cls' needs cls_token=True"),
      ('remat', dict(remat_policy='all'), "Unknown remat_policy 'all'"),
  )
  def test_bad_config(self, overrides, message):
    layer = base_layer.instantiate(encoder_config(**overrides))
    with self.assertRaisesRegex(ValueError, message):
      with base_layer.JaxContext.new_context():
        layer.init(jax.random.PRNGKey(0), self.images)


if __name__ == '__main__':
  absltest.main()
