# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of CollectiveEinsumOp / CollectiveLinear inside praxis layers."""

import copy

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
from praxis.layers import base_ops
from praxis.layers import linears

from vit22b_pax.layers import collective_einsum as ce
from vit22b_pax.layers import parallel_block
from vit22b_pax.layers import sharding
from vit22b_pax.layers import variants

AXES = ('replica', 'data', 'mdl')
PARAMS = base_layer.PARAMS
instantiate = base_layer.instantiate


def _mesh(shape):
  devices = np.array(jax.devices()[:int(np.prod(shape))]).reshape(shape)
  return Mesh(devices, AXES)


def _train_step(layer, x, target):
  """Loss, grads and one SGD step (lr 0.1) of mean((layer(x) - target)^2)."""
  def loss_fn(params):
    y = layer.apply({PARAMS: params}, x)
    return jnp.mean(jnp.square(y - target))

  def step(params):
    loss, grads = jax.value_and_grad(loss_fn)(params)
    new = jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)
    return loss, grads, new

  return step


def _run_sharded(p, x, target, mesh_shape, x_spec):
  """Inits layer p and runs one jitted sharded train step on the mesh."""
  layer = instantiate(p)
  mesh = _mesh(mesh_shape)
  with base_layer.JaxContext.new_context():
    params = layer.init(jax.random.PRNGKey(1), x)[PARAMS]
    specs = base_layer.var_partition_specs(
        layer.abstract_init_with_metadata(x)[PARAMS], mesh.shape.values(),
        AXES)
    shardings = jax.tree_util.tree_map(
        lambda s: NamedSharding(mesh, s), specs)
    with mesh:
      step = jax.jit(_train_step(layer, x, target),
                     in_shardings=(shardings,))
      params = jax.device_put(params, shardings)
      x = jax.device_put(x, NamedSharding(mesh, x_spec))
      return params, step(params)


class TreeTestCase(test_utils.TestCase):

  def assertTreeClose(self, a, b, **kw):
    self.assertEqual(jax.tree_util.tree_structure(a),
                     jax.tree_util.tree_structure(b))
    for x, y in zip(jax.tree_util.tree_leaves(a),
                    jax.tree_util.tree_leaves(b)):
      self.assertAllClose(x, y, **kw)


class PlanTest(test_utils.TestCase):

  @parameterized.named_parameters(
      ('fused_in', 'btd,dne->btne', (2, 3, 16), (16, 4, 20), 'all_gather',
       'd', P('data', None, 'mdl'), P(None, 'mdl', None),
       P('data', None, 'mdl', None)),
      ('fused_out', 'btnc,ncd->btd', (2, 3, 4, 12), (4, 12, 16),
       'reduce_scatter', 'd', P('data', None, 'mdl', None),
       P('mdl', None, None), P('data', None, 'mdl')),
      ('unfused_qkv_tie', 'btd,dnh->btnh', (2, 3, 16), (16, 4, 4),
       'all_gather', 'd', P('data', None, 'mdl'), P(None, 'mdl', None),
       P('data', None, 'mdl', None)),
      ('unfused_attn_out_tie', 'btnh,nhd->btd', (2, 3, 4, 4), (4, 4, 16),
       'reduce_scatter', 'd', P('data', None, 'mdl', None),
       P('mdl', None, None), P('data', None, 'mdl')),
      ('linear_ellipsis', '...y,yz->...z', (2, 8), (8, 32), 'all_gather', 'y',
       P('data', 'mdl'), P(None, 'mdl'), P('data', 'mdl')),
  )
  def test_auto_plan(self, eqn, xs, ws, form, letter, x_spec, w_spec,
                     out_spec):
    plan = ce.plan_einsum(eqn, xs, ws, {'data': 2, 'mdl': 4})
    self.assertEqual(plan.form, form)
    self.assertEqual(plan.letter, letter if form == 'all_gather' else 'd')
    self.assertEqual((plan.x_spec, plan.w_spec, plan.out_spec),
                     (x_spec, w_spec, out_spec))

  def test_errors(self):
    mesh = {'replica': 1, 'data': 2, 'mdl': 4}
    with self.assertRaisesRegex(ValueError, r'size 10.*4 devices'):
      ce.plan_einsum('btd,dne->btne', (2, 3, 10), (10, 4, 4), mesh)
    with self.assertRaisesRegex(ValueError, r'size 6.*4 devices'):
      ce.plan_einsum('btd,dne->btne', (2, 3, 8), (8, 6, 4), mesh)
    with self.assertRaisesRegex(ValueError, r'size 3.*2 devices'):
      ce.plan_einsum('btd,dne->btne', (3, 3, 8), (8, 4, 4), mesh)
    with self.assertRaisesRegex(ValueError, 'mode'):
      ce.plan_einsum('btd,dne->btne', (2, 3, 8), (8, 4, 4), mesh, 'ring')
    with self.assertRaisesRegex(ValueError, 'only contracted'):
      ce.plan_einsum('bnd,dn->bn', (2, 4, 8), (8, 4), mesh)


class CollectiveEinsumOpTest(TreeTestCase):

  def test_no_mesh_is_plain_einsum(self):
    op = instantiate(pax_fiddle.Config(ce.CollectiveEinsumOp, name='op'))
    x = np.random.default_rng(0).standard_normal((2, 3, 8)).astype('float32')
    w = np.random.default_rng(1).standard_normal((8, 4, 5)).astype('float32')
    with base_layer.JaxContext.new_context():
      y = op.apply({}, 'btd,dne->btne', x, w)
    self.assertArraysEqual(y, jnp.einsum('btd,dne->btne', x, w))

  @parameterized.named_parameters(
      ('1dev', (1, 1, 1), ('data', 'mdl')),
      ('2dev_column', (1, 1, 2), ('data', 'mdl')),
      ('8dev_row', (1, 2, 4), ('mdl', 'data')),
  )
  def test_collective_linear_matches_linear(self, mesh_shape, wt):
    x = np.random.default_rng(2).standard_normal((4, 3, 16)).astype('float32')
    target = np.random.default_rng(3).standard_normal((4, 3, 32))
    results = []
    for cls in (linears.Linear, ce.CollectiveLinear):
      p = pax_fiddle.Config(cls, name='linear', input_dims=16, output_dims=32,
                            mesh_axis_names=AXES,
                            ici_mesh_shape=list(mesh_shape))
      p.weight_split_dims_mapping.wt = wt
      if cls is ce.CollectiveLinear:
        p.einsum_tpl.mode = 'all_gather' if wt[1] == 'mdl' else (
            'reduce_scatter')
      results.append(_run_sharded(p, x, target.astype('float32'), mesh_shape,
                                  P(('replica', 'data'), None, 'mdl')))
    (p0, off), (p1, on) = results
    self.assertTreeClose(p0, p1, rtol=0, atol=0)  # same checkpoint
    self.assertTreeClose(off, on, rtol=1e-5, atol=1e-6)

  def test_enable_collective_matmul(self):
    p = pax_fiddle.Config(parallel_block.ViT22BBlock, name='block')
    ce.enable_collective_matmul(p, mode={'in': 'auto', 'out': 'all_gather'},
                                bidirectional=True)
    self.assertIs(p.in_einsum_tpl.cls, ce.CollectiveEinsumOp)
    self.assertEqual(p.out_einsum_tpl.mode, 'all_gather')
    self.assertTrue(p.in_einsum_tpl.bidirectional)
    with self.assertRaisesRegex(ValueError, "'einsum_tpl'"):
      ce.enable_collective_matmul(p, kinds=('einsum',))
    q = pax_fiddle.Config(linears.FeedForward, name='ff')
    ce.enable_collective_matmul(q, kinds=('einsum',))
    self.assertIs(q.linear_tpl.einsum_tpl.cls, ce.CollectiveEinsumOp)


def _block_config(fused, mesh_shape):
  p = pax_fiddle.Config(
      parallel_block.ViT22BBlock, name='block', model_dims=16, num_heads=4,
      hidden_dims=32, fused=fused, attention_summaries=False,
      mesh_axis_names=AXES, ici_mesh_shape=list(mesh_shape))
  wp = p.weight_split_dims_mapping
  wp.dnh, wp.nhd = ('data', 'mdl', None), ('mdl', None, 'data')
  wp.df, wp.fd = ('data', 'mdl'), ('mdl', 'data')
  batch = ('replica', 'data')
  ap = p.activation_split_dims_mapping
  ap.btd, ap.btnh = (batch, None, 'mdl'), (batch, None, 'mdl', None)
  ap.bnts, ap.btf = (batch, 'mdl', None, None), (batch, None, 'mdl')
  return p


class BlockTrainStepTest(TreeTestCase):

  @parameterized.named_parameters(
      ('fused_auto', True, 'auto', False),
      ('unfused_auto', False, 'auto', False),
      ('fused_forced_other_forms_bidi', True,
       {'in': 'reduce_scatter', 'out': 'all_gather'}, True),
  )
  def test_train_step_on_equals_off(self, fused, mode, bidirectional):
    mesh_shape = (1, 2, 4)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 6, 16)).astype('float32')
    target = rng.standard_normal((4, 6, 16)).astype('float32')
    off = _block_config(fused, mesh_shape)
    on = ce.enable_collective_matmul(
        copy.deepcopy(off), mode=mode, bidirectional=bidirectional)
    self.assertIs(off.in_einsum_tpl.cls, base_ops.EinsumOp)
    spec = P(('replica', 'data'), None, 'mdl')
    p_off, (loss0, g0, new0) = _run_sharded(off, x, target, mesh_shape, spec)
    p_on, (loss1, g1, new1) = _run_sharded(on, x, target, mesh_shape, spec)
    self.assertTreeClose(p_off, p_on, rtol=0, atol=0)  # same checkpoint
    self.assertTreeClose(loss0, loss1, rtol=1e-5, atol=1e-6)
    self.assertTreeClose(g0, g1, rtol=1e-4, atol=1e-6)
    self.assertTreeClose(new0, new1, rtol=1e-5, atol=1e-6)
    # Not a no-op: the step did move the parameters.
    w_name = 'w_out' if fused else 'w_attn_out'
    self.assertNotAllClose(new1[w_name], p_on[w_name])

  def test_scanned_encoder_with_remat(self):
    # The paper's setting: nn.scan over blocks, save-nothing remat, and an
    # eager init (which must not depend on the op: same checkpoint).
    mesh_shape = (1, 2, 4)
    off = variants.encoder_config(
        'Ti/4', 16, model_dims=32, num_layers=2, hidden_dims=64, num_heads=4,
        scan=True, remat_policy='save_nothing', pooling='gap',
        attention_summaries=False)
    sharding.set_sharding(off, ici_mesh_shape=list(mesh_shape))
    on = ce.enable_collective_matmul(copy.deepcopy(off), bidirectional=True)
    x = np.random.default_rng(5).standard_normal((4, 16, 16, 3))
    x = x.astype('float32')
    results = []
    for p in (off, on):
      layer = instantiate(p)
      with base_layer.JaxContext.new_context(), _mesh(mesh_shape):
        params = layer.init(jax.random.PRNGKey(1), x)[PARAMS]
        step = jax.jit(jax.value_and_grad(
            lambda params, layer=layer: jnp.mean(jnp.square(
                layer.apply({PARAMS: params}, x)))))
        results.append((params, step(params)))
    (p0, out0), (p1, out1) = results
    self.assertTreeClose(p0, p1, rtol=0, atol=0)
    self.assertTreeClose(out0, out1, rtol=1e-4, atol=1e-6)


if __name__ == '__main__':
  absltest.main()
