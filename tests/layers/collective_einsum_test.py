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

from vit22b_pax.core import hlo
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

  @parameterized.named_parameters(
      # The block's exact 2-D equations at N*H = D (the size rule's tie).
      ('in_column_parallel', 'md,dk->mk', (12, 16), (16, 16), ('data', 'mdl'),
       'all_gather', 'd', P('data', 'mdl'), P(None, 'mdl'), P('data', 'mdl')),
      ('out_row_parallel', 'mk,kd->md', (12, 16), (16, 16), ('mdl', 'data'),
       'reduce_scatter', 'd', P('data', 'mdl'), P('mdl', None),
       P('data', 'mdl')),
      ('in_row_parallel', 'md,dk->mk', (12, 16), (16, 16), ('mdl', 'data'),
       'reduce_scatter', 'k', P('data', 'mdl'), P('mdl', None),
       P('data', 'mdl')),
      ('out_column_parallel', 'mk,kd->md', (12, 16), (16, 16),
       (('data',), 'mdl'), 'all_gather', 'k', P('data', 'mdl'),
       P(None, 'mdl'), P('data', 'mdl')),
  )
  def test_plan_follows_weight_split(self, eqn, xs, ws, split, form, letter,
                                     x_spec, w_spec, out_spec):
    plan = ce.plan_einsum(eqn, xs, ws, {'data': 2, 'mdl': 4},
                          weight_sharding=split)
    self.assertEqual((plan.form, plan.letter), (form, letter))
    self.assertEqual((plan.x_spec, plan.w_spec, plan.out_spec),
                     (x_spec, w_spec, out_spec))
    # An explicit mode is fine when it agrees, an error when it does not.
    ce.plan_einsum(eqn, xs, ws, {'data': 2, 'mdl': 4}, form,
                   weight_sharding=split)
    other = 'all_gather' if form == 'reduce_scatter' else 'reduce_scatter'
    with self.assertRaisesRegex(ValueError, 'would reshard the weight'):
      ce.plan_einsum(eqn, xs, ws, {'data': 2, 'mdl': 4}, other,
                     weight_sharding=split)

  def test_plan_without_model_axis_on_weight(self):
    plan = ce.plan_einsum('md,dk->mk', (12, 16), (16, 16), {'mdl': 4},
                          weight_sharding=('data', None))
    self.assertEqual(plan.form, 'none')
    with self.assertRaisesRegex(ValueError, 'several dims'):
      ce.plan_einsum('md,dk->mk', (12, 16), (16, 16), {'mdl': 4},
                     weight_sharding=('mdl', 'mdl'))
    with self.assertRaisesRegex(ValueError, 'has 1 entries'):
      ce.plan_einsum('md,dk->mk', (12, 16), (16, 16), {'mdl': 4},
                     weight_sharding=('mdl',))

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
    enc = variants.encoder_config('Ti/16', 32, num_layers=1)
    before = copy.deepcopy(enc)
    self.assertIs(ce.enable_collective_matmul(enc, mode='off'), enc)
    self.assertEqual(enc, before)
    ce.enable_collective_matmul(enc, mode='reduce_scatter',
                                accum_dtype='float32')
    op = enc.block_tpl.out_einsum_tpl
    self.assertEqual((op.mode, op.forms, op.accum_dtype),
                     ('auto', ('reduce_scatter',), 'float32'))
    self.assertEqual(enc.block_tpl.in_einsum_tpl.forms, ('reduce_scatter',))
    with self.assertRaisesRegex(ValueError, "mode 'ring'"):
      ce.enable_collective_matmul(enc, mode='ring')
    with self.assertRaisesRegex(ValueError, "'einsum_tpl'"):
      ce.enable_collective_matmul(p, kinds=('einsum',))
    q = pax_fiddle.Config(linears.FeedForward, name='ff')
    ce.enable_collective_matmul(q, kinds=('einsum',))
    self.assertIs(q.linear_tpl.einsum_tpl.cls, ce.CollectiveEinsumOp)


def _block_config(fused, mesh_shape, transposed=False):
  """The block with the ViT-22B weight layout, or (transposed) in-weights
  row-parallel and out-weights column-parallel, which makes every ring take
  the other form."""
  p = pax_fiddle.Config(
      parallel_block.ViT22BBlock, name='block', model_dims=16, num_heads=4,
      hidden_dims=32, fused=fused, attention_summaries=False,
      mesh_axis_names=AXES, ici_mesh_shape=list(mesh_shape))
  wp = p.weight_split_dims_mapping
  if transposed:
    wp.dnh, wp.nhd = ('mdl', 'data', None), ('data', None, 'mdl')
    wp.df, wp.fd = ('mdl', 'data'), ('data', 'mdl')
  else:
    wp.dnh, wp.nhd = ('data', 'mdl', None), ('mdl', None, 'data')
    wp.df, wp.fd = ('data', 'mdl'), ('mdl', 'data')
  batch = ('replica', 'data')
  ap = p.activation_split_dims_mapping
  ap.btd, ap.btnh = (batch, None, 'mdl'), (batch, None, 'mdl', None)
  ap.bnts, ap.btf = (batch, 'mdl', None, None), (batch, None, 'mdl')
  return p


class BlockTrainStepTest(TreeTestCase):

  @parameterized.named_parameters(
      ('fused_auto', True, 'auto', False, False),
      ('unfused_auto', False, 'auto', False, False),
      ('fused_other_forms_bidi', True, 'auto', True, True),
      ('unfused_other_forms_forced', False,
       {'in': 'reduce_scatter', 'out': 'all_gather'}, False, True),
  )
  def test_train_step_on_equals_off(self, fused, mode, bidirectional,
                                    transposed):
    mesh_shape = (1, 2, 4)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 6, 16)).astype('float32')
    target = rng.standard_normal((4, 6, 16)).astype('float32')
    off = _block_config(fused, mesh_shape, transposed)
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

  def test_forced_mode_against_the_weight_split_raises(self):
    on = ce.enable_collective_matmul(
        _block_config(True, (1, 2, 4)), mode={'in': 'reduce_scatter',
                                              'out': 'auto'})
    x = np.ones((4, 6, 16), np.float32)
    with self.assertRaisesRegex(ValueError, 'would reshard the weight'):
      _run_sharded(on, x, x, (1, 2, 4), P(('replica', 'data'), None, 'mdl'))

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


class _NoSplitOp(ce.CollectiveEinsumOp):
  """The op without the layer's weight split (the size rule decides)."""
  accepts_weight_sharding = False


def _compiled_block_grad(p, mesh_shape, batch=4, tokens=6, dims=16):
  """HLO text of the jitted, sharded gradient of mean(block(x)^2)."""
  layer = instantiate(p)
  mesh = _mesh(mesh_shape)
  x = jnp.ones((batch, tokens, dims), jnp.float32)
  with base_layer.JaxContext.new_context():
    params = layer.init(jax.random.PRNGKey(1), x)[PARAMS]
    specs = base_layer.var_partition_specs(
        layer.abstract_init_with_metadata(x)[PARAMS], mesh.shape.values(),
        AXES)
    shard = jax.tree_util.tree_map(lambda s: NamedSharding(mesh, s), specs)
    x_shard = NamedSharding(mesh, P(('replica', 'data'), None, 'mdl'))

    def loss(params, x):
      return jnp.mean(jnp.square(layer.apply({PARAMS: params}, x)))

    with mesh:
      return jax.jit(jax.grad(loss), in_shardings=(shard, x_shard),
                     out_shardings=shard).lower(params, x).compile().as_text()


def _mdl_traffic(text, mesh_shape):
  """{kind: (count, bytes sent per device)} of the collectives over 'mdl'."""
  out = {}
  for c in hlo.collectives(text):
    if 'mdl' in hlo.mesh_axes_of(c.groups, mesh_shape, AXES):
      n, b = out.get(c.kind, (0, 0.0))
      out[c.kind] = (n + 1, b + c.bytes_sent)
  return out


class BlockHloTest(test_utils.TestCase):
  """What the compiled, tensor-parallel block sends over 'mdl'."""

  MESH = (1, 2, 4)
  K = 4
  # One activation block: (batch 4 / data 2) * 6 tokens * (16 / k) floats.
  BLOCK_BYTES = 2 * 6 * 4 * 4

  @parameterized.named_parameters(
      # fused: in = all-gather (fwd 1 ring, bwd 2), out = reduce-scatter
      # (fwd 1, bwd ONE dy ring): 5 rings. unfused: 4 in-, 2 out-einsums.
      ('fused', True, False, 5), ('fused_bidi', True, True, 5),
      ('unfused', False, False, 16), ('unfused_bidi', False, True, 16))
  def test_rings_only_and_bytes(self, fused, bidirectional, rings):
    text_xla = _compiled_block_grad(_block_config(fused, self.MESH),
                                    self.MESH)
    text = _compiled_block_grad(ce.enable_collective_matmul(
        _block_config(fused, self.MESH), bidirectional=bidirectional),
                                self.MESH)
    ring = _mdl_traffic(text, self.MESH)
    # k - 1 permutes per ring (bidirectional: k // 2 up + (k - 1) // 2 down).
    self.assertEqual(ring['collective-permute'][0], rings * (self.K - 1))
    self.assertNotIn('all-to-all', ring)
    # No resharding: besides the rings, 'mdl' only carries reductions of
    # norm statistics and gathers of [D] parameter gradients, each well
    # under one activation block.
    for c in hlo.collectives(text):
      if (c.kind != 'collective-permute' and
          'mdl' in hlo.mesh_axes_of(c.groups, self.MESH, AXES)):
        self.assertLess(c.bytes_sent, self.BLOCK_BYTES / 2, c)
    # Bytes: at most XLA's default plus the all-gather backwards' deliberate
    # re-gather of x (k - 1 blocks per all-gather-matmul).
    n_ag = 1 if fused else 4
    regather = n_ag * (self.K - 1) * self.BLOCK_BYTES
    xla = sum(b for _, b in _mdl_traffic(text_xla, self.MESH).values())
    self.assertLessEqual(sum(b for _, b in ring.values()), xla + regather)

  def test_size_rule_would_reshard_the_unfused_block(self):
    # Without the weight's split the unfused attention-out einsum (N*H = D,
    # a tie) is planned as all-gather against its row-parallel weight: XLA
    # then inserts all-to-alls. The checks above would catch that.
    p = _block_config(False, self.MESH)
    p.in_einsum_tpl = pax_fiddle.Config(_NoSplitOp)
    p.out_einsum_tpl = pax_fiddle.Config(_NoSplitOp)
    counts = hlo.count_collectives(_compiled_block_grad(p, self.MESH))
    self.assertGreater(counts['all-to-all'], 0)
    self.assertGreater(counts['collective-permute'], 16 * (self.K - 1))


if __name__ == '__main__':
  absltest.main()
