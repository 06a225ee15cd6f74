# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of the ablation experiments and the ablation table tool."""

import ast
import json
import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np
from praxis import base_layer
from praxis import pax_fiddle
from praxis import test_utils

from vit22b_pax.experiments import ablations
from vit22b_pax.experiments import guard
from vit22b_pax.tools import ablation_table


def _apply(exp, overrides):
  """Applies '--fdl.NAME=value' overrides as fiddle would (literal values)."""
  for flag in overrides:
    name, value = flag[len('--fdl.'):].split('=', 1)
    if not hasattr(exp, name):
      raise AssertionError(f'{type(exp).__name__} has no {name}')
    setattr(exp, name, ast.literal_eval(value))
  return exp


def _block(exp):
  network = exp.task().model.network_tpl
  return network.block_tpl


class ExperimentsTest(test_utils.TestCase):

  def test_qknorm_pair_differs_only_in_qk_norm(self):
    on, off = ablations.QkNormStabilityOn(), ablations.QkNormStabilityOff()
    self.assertTrue(_block(on).qk_norm)
    self.assertFalse(_block(off).qk_norm)
    names = [n for n in dir(on) if n.isupper() and n != 'QK_NORM']
    self.assertEqual({n: getattr(on, n) for n in names},
                     {n: getattr(off, n) for n in names})
    # Constant LR: no warm-up (harshest setting for logit growth).
    opt = on.task().train.learner.optimizer
    sched = pax_fiddle.build(opt.lr_schedule)
    self.assertEqual(float(sched.value_at(jnp.array(0))), 1.0)
    self.assertEqual(float(sched.value_at(jnp.array(50))), 1.0)

  @parameterized.parameters(ablations.QkNormStabilityOn,
                            ablations.AblationTiny, ablations.DivergingSmoke)
  def test_trains_through_the_guard(self, cls):
    programs = cls().train_programs()
    self.assertLen(programs, 1)
    self.assertIsInstance(programs[0], guard.NonFiniteGuard)

  def test_diverging_smoke_spikes_at_step_5(self):
    exp = ablations.DivergingSmoke()
    sched = pax_fiddle.build(exp.task().train.learner.optimizer.lr_schedule)
    self.assertEqual(float(sched.value_at(jnp.array(4))), 1.0)
    self.assertEqual(float(sched.value_at(jnp.array(5))), np.float32(1e35))
    self.assertEqual(exp.CHECKPOINT_EVERY_N_STEPS, 3)

  @parameterized.named_parameters(
      (name, name) for name in ablation_table.VARIANTS)
  def test_variant_overrides_build(self, name):
    exp = _apply(ablations.AblationTiny(), ablation_table.VARIANTS[name][1])
    block = _block(exp)
    expected = {
        'parallel_fused': (True, True, ('mlp', 'out')),
        'parallel_unfused': (True, False, ('mlp', 'out')),
        'sequential': (False, False, ('mlp', 'out')),
        'no_bias': (True, True, ()),
        'all_bias': (True, True, ('qkv', 'mlp', 'out')),
    }[name]
    self.assertEqual((block.parallel, block.fused, tuple(block.use_bias)),
                     expected)
    # The encoder sets up with these switches (abstract init, no compile).
    network = base_layer.instantiate(exp.task().model.network_tpl)
    images = jnp.zeros((2, exp.IMAGE_SIZE, exp.IMAGE_SIZE, 3), jnp.float32)
    with base_layer.JaxContext.new_context():
      shapes = jax.eval_shape(network.init, jax.random.PRNGKey(0), images)
    params = shapes['params']['blocks_0']
    self.assertEqual('b_q' in params, 'qkv' in expected[2])


class AblationTableTest(test_utils.TestCase):

  def test_command(self):
    cmd = ablation_table.command('sequential', 1, '/tmp/j')
    self.assertEqual(cmd[1:], [
        '-m', 'vit22b_pax.main',
        '--fdl_config=vit22b_pax.experiments.ablations.AblationTiny',
        '--fdl.PARALLEL=False', '--fdl.FUSED=False', '--fdl.RANDOM_SEED=1',
        '--fdl.DATA_SEED=1', '--job_log_dir=/tmp/j'])
    cmd = ablation_table.command('no_bias', 0, '/tmp/j', steps=100)
    self.assertIn('--fdl.USE_BIAS=()', cmd)
    self.assertIn('--fdl.EVAL_INTERVAL_STEPS=100', cmd)
    with self.assertRaisesRegex(ValueError, "Unknown variant 'fast'"):
      ablation_table.command('fast', 0, '/tmp/j')

  @parameterized.named_parameters(
      ('variant', ['--variants', 'parallel_fused,fast'], "'fast'"),
      ('seed', ['--seeds', 'a'], 'comma-separated integers'),
      ('neg_seed', ['--seeds', '-1'], 'non-negative'),
      ('steps', ['--steps', '5'], '--steps must be >= 20'),
  )
  def test_bad_args(self, argv, message):
    with self.assertRaisesRegex(ValueError, message):
      ablation_table.parse_args(argv + ['--out', '/tmp/o'])
    self.assertEqual(ablation_table.main(argv + ['--out', '/tmp/o']), 2)

  def test_step_stats(self):
    stats = ablation_table.step_stats(
        {300: 0.5, 150: 0.3}, {300: 1.2}, {10: 0.5, 20: 40.0, 30: 50.0,
                                           40: 20.0})
    self.assertEqual(stats['eval_step'], 300)
    self.assertEqual(stats['accuracy'], 0.5)
    self.assertEqual(stats['eval_loss'], 1.2)
    self.assertAlmostEqual(stats['step_ms'], 25.0)  # median 40/s; 0.5 dropped.
    empty = ablation_table.step_stats({}, {}, {})
    self.assertIsNone(empty['accuracy'])
    self.assertIsNone(empty['step_ms'])

  def test_table(self):
    runs = [
        dict(variant='parallel_fused', seed=0, finished=True, accuracy=0.6,
             step_ms=10.0),
        dict(variant='parallel_fused', seed=1, finished=True, accuracy=0.8,
             step_ms=12.0),
        dict(variant='sequential', seed=0, finished=True, accuracy=0.5,
             step_ms=16.5),
        dict(variant='sequential', seed=1, finished=False, accuracy=None,
             step_ms=None),
    ]
    out = tempfile.mkdtemp()
    rows = ablation_table.write_outputs(runs, out)
    self.assertEqual([r['variant'] for r in rows],
                     ['parallel_fused', 'sequential'])
    self.assertAlmostEqual(rows[0]['accuracy_mean'], 0.7)
    self.assertAlmostEqual(rows[0]['accuracy_std'], np.std([0.6, 0.8],
                                                           ddof=1))
    self.assertEqual(rows[1]['failed'], [1])
    md = open(os.path.join(out, 'ablation_table.md')).read()
    self.assertIn('| parallel_fused | `(none)` | 0,1 | 0.700 ± 0.141 | '
                  '11.0 ± 1.4 | 1.00x |', md)
    self.assertIn('| sequential | `--fdl.PARALLEL=False --fdl.FUSED=False` '
                  '| 0,1 (failed: 1) | 0.500 ± 0.000 | 16.5 ± 0.0 | 1.50x |',
                  md)
    data = json.load(open(os.path.join(out, 'ablation_table.json')))
    self.assertLen(data['runs'], 4)


if __name__ == '__main__':
  absltest.main()
