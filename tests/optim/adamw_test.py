# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""ViT22BAdamW in a paxml Learner against a numpy AdamW written here."""

from absl.testing import parameterized
import jax
import numpy as np
from paxml import learners
from paxml import tasks_lib
from praxis import base_hyperparams
from praxis import base_layer
from praxis import pax_fiddle
from praxis import py_utils
from praxis import schedules
from praxis import test_utils

from vit22b_pax.optim import adamw

NestedMap = py_utils.NestedMap
instantiate = base_hyperparams.instantiate

SHAPES = {
    'params/blocks_0/w_in': (8, 2, 12),           # body: 0.01
    'params/softmax/logits_ffn/linear/w': (8, 3),  # head: 0.5
    'params/blocks_0/b_out': (8,),                 # bias: never decayed
    'params/norm/scale': (8,),                     # norm scale: never decayed
}
RATES = {'params/blocks_0/w_in': 0.01,
         'params/softmax/logits_ffn/linear/w': 0.5,
         'params/blocks_0/b_out': 0.0, 'params/norm/scale': 0.0}


def unflatten(flat):
  tree = NestedMap()
  for name, value in flat.items():
    node = tree
    *parents, leaf = name.split('/')
    for p in parents:
      node = node.setdefault(p, NestedMap())
    node[leaf] = value
  return tree


def flatten(tree):
  names = py_utils.extract_prefixed_keys_from_nested_map(tree)
  return {n: np.asarray(v) for n, v in zip(jax.tree_util.tree_leaves(names),
                                           jax.tree_util.tree_leaves(tree))}


def random_tree(rng, scale=1.0):
  return {k: (scale * rng.normal(size=s)).astype(np.float32)
          for k, s in SHAPES.items()}


def optimizer_config(**kwargs):
  kw = dict(learning_rate=0.1, weight_decay=0.01, head_weight_decay=0.5,
            lr_schedule=pax_fiddle.Config(
                schedules.LinearRampupCosineDecay, warmup_steps=2,
                decay_start=2, decay_end=6, min_ratio=0.1, max=1.0))
  kw.update(kwargs)
  return pax_fiddle.Config(adamw.ViT22BAdamW, **kw)


def np_schedule(t):
  """LinearRampupCosineDecay(warmup 2, decay 2..6, min 0.1) by hand."""
  if t < 2:
    return t / 2
  frac = min(1.0, (t - 2) / 4)
  return 0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * frac))


class AdamWTest(test_utils.TestCase):

  def test_learner_step_matches_numpy_adamw(self):
    learner = instantiate(pax_fiddle.Config(
        learners.Learner, name='learner', loss_name='total_loss',
        optimizer=optimizer_config()))
    rng = np.random.default_rng(0)
    params = random_tree(rng)
    hparams = jax.tree_util.tree_map(
        lambda x: base_layer.WeightHParams(x.shape), unflatten(params))
    opt_state = learner.get_grad_tx(hparams).init(unflatten(params))

    @jax.jit
    def update(grads, opt_state, params):
      with base_layer.JaxContext.new_context():
        return learner.update_states(grads, opt_state, params, hparams)

    m = {k: np.zeros_like(v, np.float64) for k, v in params.items()}
    v = {k: np.zeros_like(v, np.float64) for k, v in params.items()}
    b1, b2, eps = 0.9, 0.95, 1e-8
    for t in range(4):
      grads = random_tree(rng, scale=3.0 if t % 2 else 0.01)
      norm = np.sqrt(sum(np.sum(g.astype(np.float64) ** 2)
                         for g in grads.values()))
      clip = min(1.0, 1.0 / norm)  # global-norm clip to 1.0
      lr = 0.1 * np_schedule(t)
      want = {}
      for k in SHAPES:
        g = grads[k].astype(np.float64) * clip
        m[k] = b1 * m[k] + (1 - b1) * g
        v[k] = b2 * v[k] + (1 - b2) * g * g
        u = (m[k] / (1 - b1 ** (t + 1))) / (
            np.sqrt(v[k] / (1 - b2 ** (t + 1))) + eps)
        want[k] = -lr * (u + RATES[k] * params[k])
      got, opt_state = update(unflatten(grads), opt_state, unflatten(params))
      got = flatten(got)
      for k in SHAPES:
        self.assertAllClose(got[k], want[k], rtol=2e-4, atol=1e-7)
        params[k] = (params[k] + got[k]).astype(np.float32)

  def test_paxml_train_state_shapes_and_specs_agree(self):
    # paxml builds the optimizer state's shapes from init() and its sharding
    # from init_partition_spec(); the two trees must match (under pjit).
    learner = instantiate(pax_fiddle.Config(
        learners.Learner, name='learner', loss_name='total_loss',
        optimizer=optimizer_config()))
    hparams = jax.tree_util.tree_map(
        lambda s: base_layer.WeightHParams(list(s), dtype=np.float32,
                                           mesh_shape=[1, 2],
                                           tensor_split_dims_mapping=None),
        unflatten(SHAPES), is_leaf=lambda x: isinstance(x, tuple))
    shapes = tasks_lib.create_state_padded_shapes(
        hparams, mesh_shape=[1, 2], mesh_axis_names=['data', 'mdl'],
        discard_opt_states=False, learners=[learner])
    m = shapes.opt_states[0][2]['m']  # after the two lp regularizers
    self.assertEqual(flatten(jax.tree_util.tree_map(
        lambda x: np.zeros(x.shape), m)).keys(), SHAPES.keys())

  def test_rates_follow_the_adafactor_rules(self):
    opt = instantiate(optimizer_config())
    for name, rate in RATES.items():
      self.assertEqual(opt.weight_decay_rate(name), rate, name)

  def test_zero_gradient_leaves_only_the_decay(self):
    opt = instantiate(optimizer_config(lr_schedule=pax_fiddle.Config(
        schedules.Constant)))
    params = random_tree(np.random.default_rng(1))
    tx = opt.get_grad_transformation()
    zeros = unflatten({k: np.zeros_like(x) for k, x in params.items()})
    got, _ = jax.jit(tx.update)(zeros, tx.init(unflatten(params)),
                                unflatten(params))
    for name, value in flatten(got).items():
      self.assertAllClose(value, -0.1 * RATES[name] * params[name],
                          rtol=1e-6, atol=0)


class BadArgsTest(test_utils.TestCase, parameterized.TestCase):

  @parameterized.named_parameters(
      ('lr_schedule', dict(lr_schedule=None), 'lr_schedule'),
      ('beta1', dict(beta1=1.0), 'beta1=1.0'),
      ('beta2', dict(beta2=-0.1), 'beta2=-0.1'),
      ('epsilon', dict(epsilon=-1.0), 'epsilon=-1.0'),
      ('weight_decay', dict(weight_decay=-0.1), 'weight_decay=-0.1'),
      ('head_regex', dict(head_regex='(head'), 'head_regex'),
      ('decoupled', dict(decoupled_weight_decay=0.1),
       'decoupled_weight_decay=0.1'),
  )
  def test_bad_args(self, kwargs, message):
    with self.assertRaisesRegex(ValueError, message):
      instantiate(optimizer_config(**kwargs))


if __name__ == '__main__':
  test_utils.main()
