# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The pure block, tensor-parallel on 8 fake CPU devices == unsharded."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
from jax import numpy as jnp
from jax.sharding import Mesh
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P
import numpy as np
from praxis import base_layer
from praxis import pax_fiddle
from praxis import test_utils

from vit22b_pax.core import block as core_block
from vit22b_pax.core import hlo
from vit22b_pax.core import tensor_parallel as tp
from vit22b_pax.layers import parallel_block

AXES = ('replica', 'data', 'mdl')
MESH = (1, 2, 4)


def _mesh():
  return Mesh(np.array(jax.devices()[:8]).reshape(MESH), AXES)


def _loss_and_grad(cfg, ops):
  def loss(params, x):
    return jnp.mean(jnp.square(core_block.apply(params, x, cfg, ops)))
  return jax.value_and_grad(loss)


class PureTensorParallelTest(test_utils.TestCase):

  @parameterized.product(fused=(True, False), matmul=tp.MATMULS)
  def test_sharded_equals_unsharded(self, fused, matmul):
    cfg = core_block.BlockConfig(32, 4, 64, fused=fused,
                                 use_bias=('qkv', 'mlp', 'out'))
    params = core_block.init_params(jax.random.PRNGKey(0), cfg)
    params = jax.tree_util.tree_map(lambda a: a + 0.1, params)
    x = np.random.default_rng(1).normal(size=(4, 6, 32)).astype(np.float32)
    want = jax.jit(_loss_and_grad(cfg, None))(params, x)
    mesh = _mesh()
    weights, _ = tp.block_splits()
    specs = tp.param_specs(cfg, weights)
    shard = jax.tree_util.tree_map(lambda s: NamedSharding(mesh, s), specs)
    step = jax.jit(_loss_and_grad(cfg, tp.block_ops(cfg, mesh, matmul)),
                   in_shardings=(shard, NamedSharding(
                       mesh, P(('replica', 'data'), None, 'mdl'))))
    got = step(jax.device_put(params, shard), x)
    self.assertAllClose(want[0], got[0], rtol=1e-5, atol=1e-6)
    for a, b in zip(jax.tree_util.tree_leaves(want[1]),
                    jax.tree_util.tree_leaves(got[1])):
      self.assertAllClose(a, b, rtol=1e-4, atol=1e-6)
    text = step.lower(jax.device_put(params, shard), x).compile().as_text()
    permutes = hlo.count_collectives(text)['collective-permute']
    rings = 5 if fused else 16
    self.assertEqual(permutes, 0 if matmul == 'xla' else rings * 3)

  def test_param_specs_match_the_praxis_layer(self):
    for fused in (True, False):
      cfg = core_block.BlockConfig(32, 4, 64, fused=fused,
                                   use_bias=('qkv', 'mlp', 'out'))
      weights, _ = tp.block_splits()
      p = pax_fiddle.Config(
          parallel_block.ViT22BBlock, name='block', model_dims=32,
          num_heads=4, hidden_dims=64, fused=fused,
          use_bias=('qkv', 'mlp', 'out'), mesh_axis_names=AXES,
          ici_mesh_shape=list(MESH))
      for key, split in weights.items():
        setattr(p.weight_split_dims_mapping, key, split)
      layer = base_layer.instantiate(p)
      with base_layer.JaxContext.new_context():
        meta = layer.abstract_init_with_metadata(jnp.ones((4, 6, 32)))
      want = base_layer.var_partition_specs(meta['params'], MESH, AXES)
      got = tp.param_specs(cfg, weights)
      for name, spec in got.items():
        if isinstance(spec, dict):
          continue  # norms: replicated in both
        self.assertEqual(tuple(want[name]), tuple(spec), name)

  def test_bad_matmul(self):
    with self.assertRaisesRegex(ValueError, "Unknown matmul 'windowed'"):
      tp.block_ops(core_block.BlockConfig(32, 4, 64), _mesh(), 'windowed')


if __name__ == '__main__':
  absltest.main()
