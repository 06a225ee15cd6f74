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

from fiddle_configs import ablations
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
