# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests for vit22b_pax.optim.adafactor against an independent numpy reference.

The reference writes the factored second moment as the rank-1 matrix
V = R C / mean(R) of Shazeer & Stern (2018), not as row / column factors.
"""

from absl.testing import absltest
from absl.testing import parameterized
import jax
from jax.experimental import mesh_utils
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import optax
from paxml import learners
from praxis import base_hyperparams
from praxis import base_layer
from praxis import pax_fiddle
from praxis import py_utils
from praxis import schedules
from praxis import test_utils
from praxis.layers import linears

from tests.optim.schedules_test import np_rsqrt
from vit22b_pax.optim import adafactor
from vit22b_pax.optim import schedules as vit_schedules
from vit22b_pax.optim import weight_decay

instantiate = base_hyperparams.instantiate
NestedMap = py_utils.NestedMap
PartitionSpec = jax.sharding.PartitionSpec

HEAD_W = 'params/softmax/logits_ffn/linear/w'
SHAPES = {
    HEAD_W: (40, 48),                      # factored, head
    'params/encoder/w_in': (3, 48, 40),    # factored over dims 2 and 1
    'params/encoder/w_small': (8, 64),     # 8 < 32: full second moment
    'params/encoder/bias/b': (40,),        # excluded from decay
    'params/encoder/norm/scale': (40,),    # excluded from decay
}
RATES = {HEAD_W: 3.0, 'params/encoder/w_in': 0.01,
         'params/encoder/w_small': 0.01, 'params/encoder/bias/b': 0.0,
         'params/encoder/norm/scale': 0.0}


def unflatten(flat):
  tree = NestedMap()
  for name, value in flat.items():
    tree.Set(name.replace('/', '.'), jnp.asarray(value))
  return tree


def flatten(tree):
  names = py_utils.extract_prefixed_keys_from_nested_map(tree)
  return dict(zip(jax.tree_util.tree_leaves(names),
                  (np.asarray(x) for x in jax.tree_util.tree_leaves(tree))))


def adafactor_state(opt_state):
  is_state = lambda x: isinstance(x, adafactor.AdafactorState)
  found = [x for x in jax.tree_util.tree_leaves(opt_state, is_leaf=is_state)
           if is_state(x)]
  assert len(found) == 1, opt_state
  return found[0]


def np_factored(shape, min_dim=32):
  """(small, large): the two largest axes, if both >= min_dim."""
  if len(shape) < 2:
    return None
  order = sorted(range(len(shape)), key=lambda i: shape[i])
  small, large = order[-2], order[-1]
  return (small, large) if shape[small] >= min_dim else None


def np_step(t, lr, grads, params, state, *, cap=0.999, beta1=0.9,
            clip=None, rates=None, momentum_bf16=True, eps=1e-30):
  """One update of the paper's Adafactor in float64 numpy.

  Args:
    t: 0-based update count.
    lr: learning rate at t.
    grads, params: flat {name: array}.
    state: flat {slot: {name: array}} (slots m, v_row, v_col, v).
    cap, beta1, clip, rates, momentum_bf16, eps: optimizer settings.

  Returns:
    (updates, new_state, m_float): m_float is the unrounded momentum.
  """
  rates = RATES if rates is None else rates
  beta2 = min(cap, 1.0 - (t + 1.0)**-0.8)
  updates, m_float = {}, {}
  new = {k: dict(v) for k, v in state.items()}
  for name, g in grads.items():
    g = g.astype(np.float64)
    big_g = g * g + eps
    dims = np_factored(g.shape)
    if dims:
      small, large = dims
      vr = beta2 * state['v_row'][name] + (1 - beta2) * big_g.mean(large)
      vc = beta2 * state['v_col'][name] + (1 - beta2) * big_g.mean(small)
      new['v_row'][name], new['v_col'][name] = vr, vc
      r = np.expand_dims(vr, large)
      v_hat = r * np.expand_dims(vc, small) / r.mean(small, keepdims=True)
    else:
      v_hat = beta2 * state['v'][name] + (1 - beta2) * big_g
      new['v'][name] = v_hat
    u = g / np.sqrt(v_hat)
    if clip:
      u = u / max(1.0, np.sqrt(np.mean(u * u)) / clip)
    if beta1:
      u = beta1 * state['m'][name].astype(np.float64) + (1 - beta1) * u
      m_float[name] = u
      dtype = ml_dtypes.bfloat16 if momentum_bf16 else np.float32
      new['m'][name] = u.astype(np.float32).astype(dtype)
    updates[name] = -lr * (u + rates[name] * params[name].astype(np.float64))
  return updates, new, m_float


def random_tree(rng, scale=1.0):
  return {k: (scale * rng.normal(size=s)).astype(np.float32)
          for k, s in SHAPES.items()}


def optimizer_config(**kwargs):
  kwargs.setdefault('lr_schedule', pax_fiddle.Config(schedules.Constant))
  return pax_fiddle.Config(adafactor.ViT22BAdafactor, **kwargs)


class ViT22BAdafactorTest(test_utils.TestCase):

  def setUp(self):
    super().setUp()
    np.random.seed(123456)

  def assert_state_matches(self, got, want, m_float, bf16):
    for slot in ('v_row', 'v_col', 'v'):
      for name, value in want[slot].items():
        self.assertAllClose(got[slot][name], value.astype(np.float32),
                            rtol=2e-5, atol=0)
    for name in m_float:
      m, value = got['m'][name], want['m'][name]
      self.assertEqual(m.dtype, value.dtype)
      if not bf16:
        self.assertAllClose(m, value, rtol=2e-5, atol=1e-6)
        continue
      # Stored = bf16(unrounded momentum), up to one bf16 ulp where float32
      # noise crosses a rounding boundary; rounding really happened.
      m, value = m.astype(np.float32), value.astype(np.float32)
      self.assertAllClose(m, value, rtol=2.0**-7, atol=0)
      self.assertGreater(np.mean(m == value), 0.99)
      self.assertGreater(np.max(np.abs(m - m_float[name])), 0)

  @parameterized.named_parameters(
      ('paper_defaults', {}, {}),
      ('beta2_cap_binds', dict(beta2_cap=0.6), dict(cap=0.6)),
      ('update_clipping', dict(clipping_threshold=0.5), dict(clip=0.5)),
      ('no_momentum', dict(beta1=0.0), dict(beta1=0.0)),
      ('float32_momentum', dict(momentum_dtype='float32'),
       dict(momentum_bf16=False)),
      ('rsqrt_schedule', dict(learning_rate=1e-2, lr_schedule=pax_fiddle.Config(
          vit_schedules.RsqrtSchedule, warmup_steps=2, timescale=3.0,
          cooldown_steps=2, total_steps=6)), {}),
  )
  def test_matches_numpy_reference(self, opt_kwargs, ref_kwargs):
    opt = instantiate(optimizer_config(**opt_kwargs))
    rng = np.random.default_rng(0)
    params = random_tree(rng)
    hparams = jax.tree_util.tree_map(
        lambda x: base_layer.WeightHParams(x.shape), unflatten(params))
    tx = opt.get_grad_transformation(hparams)
    opt_state = tx.init(unflatten(params))
    update = jax.jit(tx.update)
    for t in range(5):
      grads = random_tree(rng, scale=10.0**(t - 2))
      if 'lr_schedule' in opt_kwargs:
        lr = 1e-2 * np_rsqrt(t, 2, 3.0, 2, 6)
      else:
        lr = 1e-3
      state = {slot: flatten(getattr(adafactor_state(opt_state), slot))
               for slot in ('m', 'v_row', 'v_col', 'v')}
      want, want_state, m_float = np_step(t, lr, grads, params, state,
                                          **ref_kwargs)
      got, opt_state = update(unflatten(grads), opt_state, unflatten(params))
      got = flatten(got)
      for name in SHAPES:
        self.assertAllClose(got[name], want[name].astype(np.float32),
                            rtol=2e-5, atol=1e-9)
        params[name] = params[name] + got[name]
      new_state = {slot: flatten(getattr(adafactor_state(opt_state), slot))
                   for slot in ('m', 'v_row', 'v_col', 'v')}
      self.assertEqual(int(adafactor_state(opt_state).count), t + 1)
      self.assert_state_matches(
          new_state, want_state, m_float,
          bf16=ref_kwargs.get('momentum_bf16', True))

  def test_state_shapes(self):
    opt = instantiate(optimizer_config())
    params = unflatten(random_tree(np.random.default_rng(1)))
    state = adafactor_state(opt.get_grad_transformation().init(params))
    shape = lambda slot, name: tuple(flatten(getattr(state, slot))[name].shape)
    self.assertEqual(shape('v_row', HEAD_W), (40,))   # reduced over 48
    self.assertEqual(shape('v_col', HEAD_W), (48,))   # reduced over 40
    self.assertEqual(shape('v', HEAD_W), (1,))
    self.assertEqual(shape('v_row', 'params/encoder/w_in'), (3, 40))
    self.assertEqual(shape('v_col', 'params/encoder/w_in'), (3, 48))
    self.assertEqual(shape('v', 'params/encoder/w_small'), (8, 64))
    self.assertEqual(shape('v_row', 'params/encoder/w_small'), (1,))
    m = flatten(state.m)[HEAD_W]
    self.assertEqual((m.shape, m.dtype), ((40, 48), jnp.bfloat16))

  def test_beta2_schedule_and_cap(self):
    got = adafactor.beta2_at(jnp.array([0, 1, 9, 5622, 5623, 10**6]), 0.8,
                             0.999)
    t = np.array([1, 2, 10, 5623, 5624, 10**6 + 1], np.float64)
    want = np.minimum(0.999, 1 - t**-0.8)
    self.assertAllClose(got, want.astype(np.float32), rtol=1e-6, atol=1e-7)
    self.assertEqual(float(got[-1]), np.float32(0.999))
    self.assertLess(float(got[3]), 0.999)     # cap binds from t+1 = 5624
    self.assertEqual(float(got[4]), np.float32(0.999))

  def test_matches_optax_factored_rms(self):
    # Second-moment part equals big_vision's optax chain (momentum off).
    opt = instantiate(optimizer_config(
        learning_rate=1.0, beta1=0.0, weight_decay=0.0, head_weight_decay=0.0))
    capped = lambda t, rate: jnp.minimum(0.999, 1.0 - (t + 1.0)**-rate)
    ref = optax.scale_by_factored_rms(min_dim_size_to_factor=32,
                                      decay_rate=0.8, epsilon=1e-30,
                                      decay_rate_fn=capped)
    rng = np.random.default_rng(2)
    params = unflatten(random_tree(rng))
    tx = opt.get_grad_transformation()
    state, ref_state = tx.init(params), ref.init(params)
    update, ref_update = jax.jit(tx.update), jax.jit(ref.update)
    for _ in range(3):
      grads = unflatten(random_tree(rng))
      got, state = update(grads, state, params)
      want, ref_state = ref_update(grads, ref_state, params)
      want = flatten(want)
      for name, value in flatten(got).items():
        self.assertAllClose(value, -want[name], rtol=1e-5, atol=1e-7)

  def test_weight_decay_rates(self):
    opt = instantiate(optimizer_config())
    cases = {
        'params/softmax/logits_ffn/linear/w': 3.0,
        'params/softmax/logits_ffn/bias/b': 0.0,
        'params/head/w': 3.0,
        'params/encoder/map_head/w_q': 0.01,
        'params/encoder/x_layers_3/w_in': 0.01,
        'params/encoder/x_layers_3/w_attn_out': 0.01,
        'params/encoder/x_layers_3/b_mlp_in': 0.0,
        'params/encoder/x_layers_3/b_q': 0.0,
        'params/encoder/x_layers_3/q_norm/scale': 0.0,
        'params/encoder/ln/bias': 0.0,
        'params/entry/pos_emb/emb_var': 0.0,
        'params/entry/prepend_cls_embs': 0.0,
        'params/encoder/map_head/probe': 0.0,
        'params/encoder/blocks/per_dim_scale/per_dim_scale': 0.0,
        'params/entry/patch_projection/linear/w': 0.01,
    }
    for name, rate in cases.items():
      self.assertEqual(opt.weight_decay_rate(name), rate, name)
    tree = weight_decay.rate_tree(
        NestedMap(a=NestedMap(head=NestedMap(w=1)), b=2), body=0.5, head=7.0,
        head_regex=weight_decay.DEFAULT_HEAD_REGEX, exclusions=())
    self.assertEqual(tree, NestedMap(a=NestedMap(head=NestedMap(w=7.0)), b=0.5))

  def test_decoupled_decay_with_zero_gradient(self):
    # g = 0 gives a zero adaptive step, leaving exactly -lr * wd * param.
    opt = instantiate(optimizer_config(learning_rate=0.1))
    params = random_tree(np.random.default_rng(3))
    tx = opt.get_grad_transformation()
    zeros = unflatten({k: np.zeros_like(v) for k, v in params.items()})
    got, _ = jax.jit(tx.update)(zeros, tx.init(unflatten(params)),
                                unflatten(params))
    for name, value in flatten(got).items():
      self.assertAllClose(value, -0.1 * RATES[name] * params[name],
                          rtol=1e-6, atol=0)

  def test_learner_clips_global_norm(self):
    # Also: a var masked out of bprop (as paxml's tasks_lib does) is skipped.
    masked = lambda tree: NestedMap(tree, frozen=py_utils.BpropMaskedNode())
    learner = instantiate(pax_fiddle.Config(
        learners.Learner, name='learner', loss_name='total_loss',
        optimizer=optimizer_config()))
    self.assertEqual(learner.optimizer.clip_gradient_norm_to_value, 1.0)
    rng = np.random.default_rng(4)
    params = random_tree(rng)
    hparams = masked(jax.tree_util.tree_map(
        lambda x: base_layer.WeightHParams(x.shape), unflatten(params)))
    opt_state = learner.get_grad_tx(hparams).init(masked(unflatten(params)))

    @jax.jit
    def update_states(grads, opt_state, params):
      with base_layer.JaxContext.new_context():
        return learner.update_states(masked(grads), opt_state, masked(params),
                                     hparams)

    for t in range(2):
      grads = random_tree(rng, scale=3.0)
      norm = np.sqrt(sum(np.sum(g.astype(np.float64)**2)
                         for g in grads.values()))
      self.assertGreater(norm, 1.0)
      state = {slot: flatten(getattr(adafactor_state(opt_state), slot))
               for slot in ('m', 'v_row', 'v_col', 'v')}
      clipped = {k: g / norm for k, g in grads.items()}
      want, _, _ = np_step(t, 1e-3, clipped, params, state)
      got, opt_state = update_states(unflatten(grads), opt_state,
                                     unflatten(params))
      self.assertEqual(got.frozen, py_utils.BpropMaskedNode())
      got = flatten(got)
      for name in SHAPES:
        self.assertAllClose(got[name], want[name].astype(np.float32),
                            rtol=2e-5, atol=1e-9)
        params[name] = params[name] + got[name]

  @parameterized.named_parameters(
      ('lr_schedule', dict(lr_schedule=None), 'lr_schedule'),
      ('decay_rate', dict(decay_rate=0.0), 'decay_rate=0.0'),
      ('beta2_cap', dict(beta2_cap=1.5), 'beta2_cap=1.5'),
      ('beta1', dict(beta1=1.0), 'beta1=1.0'),
      ('momentum_dtype', dict(momentum_dtype='int8'), "momentum_dtype='int8'"),
      ('min_dim', dict(min_dim_size_to_factor=0), 'min_dim_size_to_factor=0'),
      ('clipping', dict(clipping_threshold=0.0), 'clipping_threshold=0.0'),
      ('weight_decay', dict(weight_decay=-0.1), 'weight_decay=-0.1'),
      ('head_regex', dict(head_regex='(head'), 'head_regex'),
      ('exclusions', dict(decay_exclusion_regexes='.*b'),
       'decay_exclusion_regexes'),
      ('decoupled', dict(decoupled_weight_decay=0.1),
       'decoupled_weight_decay=0.1'),
  )
  def test_bad_args(self, kwargs, message):
    with self.assertRaisesRegex(ValueError, message):
      instantiate(optimizer_config(**kwargs))


class ShardedLearnerTest(test_utils.TestCase):
  """The optimizer in a paxml Learner on a praxis layer, jit vs pjit."""

  def test_sharded_update_matches_unsharded(self):
    mesh_shape, axes = (1, 2), ('data', 'mdl')
    layer_p = pax_fiddle.Config(
        linears.FeedForward, name='ffn', input_dims=32, output_dims=64,
        ici_mesh_shape=mesh_shape, mesh_axis_names=axes)
    layer_p.weight_split_dims_mapping.wt = ('data', 'mdl')
    layer = instantiate(layer_p)
    x = jnp.asarray(np.random.default_rng(5).normal(size=(4, 32)), jnp.float32)
    with base_layer.JaxContext.new_context():
      mdl_vars = layer.init(jax.random.PRNGKey(0), x)
      hparams = layer.abstract_init_with_metadata(x)
    learner = instantiate(pax_fiddle.Config(
        learners.Learner, name='learner', loss_name='total_loss',
        optimizer=optimizer_config(learning_rate=0.01)))
    tx = learner.get_grad_tx(hparams)

    specs = tx.init_partition_spec(hparams).inner_state
    var_specs = base_layer.var_partition_specs(hparams, mesh_shape, axes)
    state_specs = base_layer.var_partition_specs(specs, mesh_shape, axes)
    ada = adafactor_state(state_specs)
    w = 'params/linear/w'
    self.assertEqual(flatten_specs(var_specs)[w], PartitionSpec('data', 'mdl'))
    self.assertEqual(flatten_specs(ada.m)[w], PartitionSpec('data', 'mdl'))
    self.assertEqual(flatten_specs(ada.v_row)[w], PartitionSpec('data'))
    self.assertEqual(flatten_specs(ada.v_col)[w], PartitionSpec('mdl'))
    self.assertEqual(flatten_specs(ada.v)[w], PartitionSpec(None))
    state = tx.init(mdl_vars)
    # init_partition_spec mirrors init: same tree, same shapes and dtypes.
    is_wh = lambda v: isinstance(v, base_layer.WeightHParams)
    self.assertEqual(jax.tree_util.tree_structure(specs, is_leaf=is_wh),
                     jax.tree_util.tree_structure(state))
    self.assertEqual(
        [(tuple(s.shape), jnp.dtype(s.dtype)) for s in
         jax.tree_util.tree_leaves(specs, is_leaf=is_wh)],
        [(x.shape, x.dtype) for x in jax.tree_util.tree_leaves(state)])

    def train_step(mdl_vars, opt_state, x):
      def loss_fn(v):
        with base_layer.JaxContext.new_context():
          return jnp.sum(jnp.square(layer.apply(v, x) - 1.0))
      grads = jax.grad(loss_fn)(mdl_vars)
      with base_layer.JaxContext.new_context():
        step, opt_state = learner.update_states(grads, opt_state, mdl_vars,
                                                hparams)
        mdl_vars = learner.apply_gradient(mdl_vars, step, hparams)
      return mdl_vars, opt_state

    def run(step_fn, mdl_vars, opt_state):
      for _ in range(3):
        mdl_vars, opt_state = step_fn(mdl_vars, opt_state, x)
      return mdl_vars, opt_state

    want_vars, want_state = run(jax.jit(train_step), mdl_vars, state)
    devices = mesh_utils.create_device_mesh(mesh_shape, jax.devices()[:2])
    mesh = jax.sharding.Mesh(devices, axes)
    named = lambda tree: jax.tree_util.tree_map(
        lambda s: jax.sharding.NamedSharding(mesh, s), tree,
        is_leaf=lambda s: isinstance(s, PartitionSpec))
    shardings = (named(var_specs), named(state_specs))
    sharded_step = jax.jit(
        train_step, in_shardings=shardings + (named(PartitionSpec()),),
        out_shardings=shardings)
    got_vars, got_state = run(sharded_step, mdl_vars, state)
    v_row = adafactor_state(got_state).v_row['params']['linear']['w']
    self.assertEqual(v_row.sharding.spec, PartitionSpec('data'))
    got, want, init = map(flatten, (got_vars, want_vars, mdl_vars))
    for name in ('params/linear/w', 'params/bias/b'):
      self.assertAllClose(got[name], want[name], rtol=1e-5, atol=1e-7)
      self.assertNotAllClose(got[name], init[name])
    for slot in ('m', 'v_row', 'v_col'):
      self.assertAllClose(
          flatten(getattr(adafactor_state(got_state), slot))[w],
          flatten(getattr(adafactor_state(want_state), slot))[w],
          rtol=1e-5, atol=1e-7)


  def test_repeat_prefix_is_per_layer(self):
    # Stacked (repeat_prefix) weights: the Learner vectorizes the optimizer,
    # so each layer gets its own factored statistics and the same update as
    # an unstacked weight.
    learner = instantiate(pax_fiddle.Config(
        learners.Learner, name='learner', loss_name='total_loss',
        optimizer=optimizer_config()))
    name = 'params/stack/w'
    hparams = NestedMap(params=NestedMap(stack=NestedMap(
        w=base_layer.WeightHParams([40, 48], repeat_prefix=[3],
                                   repeat_prefix_split_dims_mapping=(-1,),
                                   tensor_split_dims_mapping=('data', 'mdl'),
                                   mesh_shape=(1, 2)))))
    rng = np.random.default_rng(6)
    params = rng.normal(size=(3, 40, 48)).astype(np.float32)
    grads = rng.normal(size=(3, 40, 48)).astype(np.float32) / 100
    self.assertLess(np.linalg.norm(grads), 1.0)  # no global-norm clipping
    tx = learner.get_grad_tx(hparams)
    specs = base_layer.var_partition_specs(
        tx.init_partition_spec(hparams), (1, 2), ('data', 'mdl'))
    v_row = adafactor_state(specs['p#3#i-1']).v_row['params']['stack']['w']
    self.assertEqual(v_row, PartitionSpec(None, 'data'))

    @jax.jit
    def update_states(grads, opt_state, params):
      with base_layer.JaxContext.new_context():
        return learner.update_states(grads, opt_state, params, hparams)

    opt_state = tx.init(unflatten({name: params}))
    got, _ = update_states(unflatten({name: grads}), opt_state,
                           unflatten({name: params}))
    zeros = lambda s: np.zeros(s, np.float32)
    for i in range(3):
      state = dict(m={name: zeros((40, 48))}, v_row={name: zeros((40,))},
                   v_col={name: zeros((48,))}, v={})
      want, _, _ = np_step(0, 1e-3, {name: grads[i]}, {name: params[i]},
                           state, rates={name: 0.01})
      self.assertAllClose(flatten(got)[name][i],
                          want[name].astype(np.float32), rtol=2e-5, atol=1e-9)


def flatten_specs(tree):
  is_spec = lambda s: isinstance(s, PartitionSpec)
  names = py_utils.extract_prefixed_keys_from_nested_map(tree)
  return dict(zip(jax.tree_util.tree_leaves(names),
                  jax.tree_util.tree_leaves(tree, is_leaf=is_spec)))


if __name__ == '__main__':
  absltest.main()
