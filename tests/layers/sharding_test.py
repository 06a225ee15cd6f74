# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Sharded == unsharded for the ViT-22B encoder on 8 fake CPU devices."""

import functools

from absl.testing import absltest
from absl.testing import parameterized
import jax
from jax.experimental import pjit
import numpy as np
from praxis import base_layer
from praxis import test_utils

from tests.layers import parallel_block_test as pbt
from vit22b_pax.layers import sharding
from vit22b_pax.layers import variants

P = jax.sharding.PartitionSpec
MESH = (1, 4, 2)  # (replica, data, mdl)


def tiny_config(**overrides):
  kwargs = dict(model_dims=16, num_heads=2, hidden_dims=32, num_layers=2)
  kwargs.update(overrides)
  return variants.encoder_config('Ti/4', image_size=8, **kwargs)


class ShardingTest(test_utils.TestCase):

  def test_annotations(self):
    cfg = sharding.set_sharding(tiny_config())
    self.assertEqual(cfg.mesh_axis_names, ['replica', 'data', 'mdl'])
    self.assertEqual(cfg.block_tpl.weight_split_dims_mapping.dnh,
                     ('data', 'mdl', None))
    self.assertEqual(cfg.block_tpl.activation_split_dims_mapping.btd,
                     (('replica', 'data'), None, 'mdl'))
    with self.assertRaisesRegex(ValueError, r'got \(\'data\', \'mdl\'\)'):
      sharding.set_sharding(tiny_config(), mesh_axis_names=('data', 'mdl'))

  @parameterized.named_parameters(
      ('fused_scan', {}),
      ('unfused_unrolled', dict(fused=False, scan=False, num_layers=1)),
  )
  def test_sharded_equals_unsharded(self, overrides):
    if jax.device_count() < 8:
      self.skipTest('needs 8 devices (tests/conftest.py sets them)')
    images = np.random.default_rng(0).normal(size=(4, 8, 8, 3)).astype(
        np.float32)
    plain = base_layer.instantiate(tiny_config(**overrides))
    variables = pbt.init_random(plain, images)

    def loss_and_grad(layer, v, x):
      def loss(v):
        with base_layer.JaxContext.new_context():
          y = layer.apply(v, x)
        return (y * y).sum(), y
      return jax.value_and_grad(loss, has_aux=True)(v)

    (_, y), grads = jax.jit(functools.partial(loss_and_grad, plain))(
        variables, images)

    cfg = sharding.set_sharding(tiny_config(**overrides),
                                ici_mesh_shape=MESH)
    sharded = base_layer.instantiate(cfg)
    with base_layer.JaxContext.new_context():
      var_hparams = sharded.abstract_init_with_metadata(images)
    pspecs = base_layer.var_partition_specs(var_hparams, MESH,
                                            sharding.MESH_AXIS_NAMES)
    # The fused weights really are 2-D sharded.
    w = 'w_in' if overrides.get('fused', True) else 'w_q'
    blk = (pspecs['params']['blocks']['block'] if overrides.get('scan', True)
           else pspecs['params']['blocks_0'])
    self.assertIn('data', tuple(blk[w]))
    self.assertIn('mdl', tuple(blk[w]))
    step = pjit.pjit(functools.partial(loss_and_grad, sharded),
                     in_shardings=(pspecs, P(('replica', 'data'))),
                     out_shardings=None)
    mesh = jax.sharding.Mesh(
        np.array(jax.devices()[:8]).reshape(MESH), sharding.MESH_AXIS_NAMES)
    with mesh:
      (_, y_sharded), grads_sharded = step(variables, images)
    self.assertAllClose(y, y_sharded, rtol=1e-5, atol=1e-5)
    for g, g_sharded in zip(jax.tree_util.tree_leaves(grads),
                            jax.tree_util.tree_leaves(grads_sharded)):
      self.assertAllClose(g, g_sharded, rtol=1e-4,
                          atol=1e-5 * max(1.0, float(np.abs(g).max())))


if __name__ == '__main__':
  absltest.main()
