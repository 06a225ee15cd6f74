# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The ablation recipes: what each switch changes and nothing else."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np
from praxis import base_layer
from praxis import pax_fiddle

from paxml import learners
from praxis import base_hyperparams
from praxis import schedules

from fiddle_configs import ablations
from vit22b_pax.optim import adafactor
from vit22b_pax.optim import adamw
from vit22b_pax.runtime import guard


def _block(cfg):
  return cfg.task.model.network_tpl.block_tpl


class QkNormStabilityTest(absltest.TestCase):

  def test_pair_differs_only_in_qk_norm(self):
    on = ablations.qk_norm_stability(qk_norm=True)
    off = ablations.qk_norm_stability(qk_norm=False)
    self.assertTrue(_block(on).qk_norm)
    self.assertFalse(_block(off).qk_norm)
    _block(off).qk_norm = True
    self.assertEqual(on, off)

  def test_harshest_setting(self):
    cfg = ablations.qk_norm_stability(learning_rate=0.01, steps=50)
    opt = cfg.task.train.learner.optimizer
    self.assertEqual(opt.learning_rate, 0.01)
    self.assertEqual((opt.weight_decay, opt.head_weight_decay), (0.0, 0.0))
    sched = pax_fiddle.build(opt.lr_schedule)  # Constant: no warm-up.
    self.assertEqual(float(sched.value_at(jnp.array(0))), 1.0)
    self.assertEqual(float(sched.value_at(jnp.array(49))), 1.0)
    net = cfg.task.model.network_tpl
    self.assertEqual((net.model_dims, net.num_layers, net.num_heads,
                      net.pooling), (64, 2, 1, 'map'))
    self.assertEqual(cfg.task.train.summary_interval_steps, 1)
    self.assertEqual(cfg.task.train.eval_interval_steps, 0)


def _train_two_steps(cfg):
  """Builds the recipe's model, learner and train input and takes two steps
  on one batch; returns the loss before, after one step and after two, and
  the variables at each point."""
  exp = pax_fiddle.build(cfg)
  task_p = exp.task()
  model = base_hyperparams.instantiate(task_p.model)
  learner = base_hyperparams.instantiate(task_p.train.learner)
  batch = base_hyperparams.instantiate(exp.train_datasets()[0]).get_next()
  with base_layer.JaxContext.new_context():
    variables = model.init(jax.random.PRNGKey(0), batch)
    hparams = model.abstract_init_with_metadata(batch)

  def loss(v):
    with base_layer.JaxContext.new_context():
      metrics, _ = model.apply(v, batch)
    return metrics.total_loss[0]

  @jax.jit
  def step(v, opt_state):
    value, grads = jax.value_and_grad(loss)(v)
    with base_layer.JaxContext.new_context():
      update, opt_state = learner.update_states(grads, opt_state, v, hparams)
      return value, learner.apply_gradient(v, update, hparams), opt_state

  opt_state = learner.get_grad_tx(hparams).init(variables)
  losses, states = [], [variables]
  for _ in range(2):
    value, variables, opt_state = step(variables, opt_state)
    losses.append(float(value))
    states.append(variables)
  losses.append(float(jax.jit(loss)(variables)))
  return losses, states


class OptimizerSwitchTest(parameterized.TestCase):

  @parameterized.parameters(('adafactor', adafactor.ViT22BAdafactor),
                            ('adamw', adamw.ViT22BAdamW))
  def test_builds_and_trains_one_step(self, name, cls):
    cfg = ablations.qk_norm_stability(
        qk_norm=False, learning_rate=1e-2, steps=20, optimizer=name,
        schedule='constant', width=32, depth=1, heads=1, weight_decay=0.1)
    opt = cfg.task.train.learner.optimizer
    self.assertIs(opt.__fn_or_cls__, cls)
    self.assertEqual((opt.learning_rate, opt.clip_gradient_norm_to_value,
                      opt.weight_decay, opt.head_weight_decay),
                     (1e-2, 1.0, 0.1, 0.1))
    losses, states = _train_two_steps(cfg)
    self.assertTrue(np.all(np.isfinite(losses)), losses)
    self.assertLess(losses[1], losses[0])  # one step on the batch helps
    self.assertLess(losses[2], losses[1])

    def changed(a, b):
      flags = jax.tree_util.tree_map(
          lambda x, y: bool(np.any(np.asarray(x) != np.asarray(y))), a, b)
      return jax.tree_util.tree_leaves_with_path(flags)

    # Step 1: the head is zero-initialised, so the encoder gets no gradient
    # yet: only the head and the decayed weights (decoupled decay) move ...
    rate = base_hyperparams.instantiate(opt).weight_decay_rate
    initial = dict(jax.tree_util.tree_leaves_with_path(states[0]))
    for path, moved in changed(states[0], states[1]):
      name = '/'.join(k.key for k in path)
      decays = rate(name) > 0 and np.any(np.asarray(initial[path]) != 0)
      self.assertEqual(moved, 'softmax' in name or bool(decays), name)
    # ... step 2: gradients reach every variable.
    for path, moved in changed(states[1], states[2]):
      self.assertTrue(moved, path)

  def test_cosine_schedule(self):
    cfg = ablations.qk_norm_stability(steps=1000, schedule='cosine',
                                      warmup=0.05, optimizer='adamw')
    sched = pax_fiddle.build(cfg.task.train.learner.optimizer.lr_schedule)
    value = lambda s: float(sched.value_at(jnp.array(s)))
    self.assertEqual(value(0), 0.0)
    self.assertAlmostEqual(value(25), 0.5, places=5)  # linear warm-up
    self.assertAlmostEqual(value(50), 1.0, places=5)
    mid = ablations.COSINE_MIN_RATIO + (1 - ablations.COSINE_MIN_RATIO) / 2
    self.assertAlmostEqual(value(525), mid, places=4)  # half-way down
    self.assertAlmostEqual(value(1000), ablations.COSINE_MIN_RATIO, places=6)

  def test_rsqrt_schedule_is_the_tiny_runs(self):
    cfg = ablations.qk_norm_stability(steps=600, schedule='rsqrt')
    sched = cfg.task.train.learner.optimizer.lr_schedule
    self.assertEqual((sched.warmup_steps, sched.cooldown_steps,
                      sched.total_steps), (60, 120, 600))

  def test_summaries_are_per_step_values(self):
    train = ablations.qk_norm_stability(summary_every=10).task.train
    self.assertEqual(train.summary_interval_steps, 10)
    self.assertIsNone(train.summary_accumulate_interval_steps)

  @parameterized.parameters(
      (dict(optimizer='sgd'), "Unknown optimizer 'sgd'"),
      (dict(schedule='linear'), "Unknown schedule 'linear'"),
      (dict(schedule='cosine', warmup=1.5), 'warmup must be'),
      (dict(learning_rate=0.0), 'learning_rate > 0'),
      (dict(summary_every=0), 'summary_every'))
  def test_bad_arguments(self, kwargs, message):
    with self.assertRaisesRegex(ValueError, message):
      ablations.qk_norm_stability(**kwargs)


class ArchitectureTest(parameterized.TestCase):

  @parameterized.named_parameters((name, name) for name in ablations.BLOCKS)
  def test_block_switches_build(self, name):
    cfg = ablations.architecture(name, steps=100, seed=2)
    block = _block(cfg)
    expected = {
        'parallel_fused': (True, True, ('mlp', 'out')),
        'parallel_unfused': (True, False, ('mlp', 'out')),
        'sequential': (False, False, ('mlp', 'out')),
        'no_bias': (True, True, ()),
        'all_bias': (True, True, ('qkv', 'mlp', 'out')),
    }[name]
    self.assertEqual((block.parallel, block.fused, tuple(block.use_bias)),
                     expected)
    sched = cfg.task.train.learner.optimizer.lr_schedule
    self.assertEqual((sched.warmup_steps, sched.cooldown_steps,
                      sched.total_steps), (10, 20, 100))
    self.assertEqual(cfg.task.train.eval_interval_steps, 100)
    network = base_layer.instantiate(cfg.task.model.network_tpl)
    images = jnp.zeros((2, 16, 16, 3), jnp.float32)
    with base_layer.JaxContext.new_context():
      shapes = jax.eval_shape(network.init, jax.random.PRNGKey(0), images)
    self.assertEqual('b_q' in shapes['params']['blocks_0'],
                     'qkv' in expected[2])

  def test_unknown_block(self):
    with self.assertRaisesRegex(ValueError, "Unknown block 'fast'"):
      ablations.architecture('fast')


class DivergingTest(absltest.TestCase):

  def test_spikes_and_trains_through_the_guard(self):
    exp = pax_fiddle.build(ablations.diverging())
    sched = pax_fiddle.build(exp.task().train.learner.optimizer.lr_schedule)
    self.assertEqual(float(sched.value_at(jnp.array(4))), 1.0)
    self.assertEqual(float(sched.value_at(jnp.array(5))), np.float32(1e35))
    self.assertEqual(exp.task().train.save_interval_steps, 3)
    programs = exp.train_programs()
    self.assertLen(programs, 1)
    self.assertIsInstance(programs[0], guard.NonFiniteGuard)


if __name__ == '__main__':
  absltest.main()
