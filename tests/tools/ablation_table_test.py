# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The ablation table tool: commands, statistics and the table."""

import json
import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
from praxis import test_utils

from vit22b_pax.tools import ablation_table


class AblationTableTest(test_utils.TestCase):

  def test_experiment(self):
    self.assertEqual(
        ablation_table.experiment('sequential', 1, 300),
        "fiddle_configs.ablations.architecture(block='sequential',steps=300,"
        'seed=1)')
    with self.assertRaisesRegex(ValueError, "Unknown variant 'fast'"):
      ablation_table.experiment('fast', 0, 300)

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
    self.assertIn("| sequential | `{'parallel': False}` "
                  '| 0,1 (failed: 1) | 0.500 ± 0.000 | 16.5 ± 0.0 | 1.50x |',
                  md)
    data = json.load(open(os.path.join(out, 'ablation_table.json')))
    self.assertLen(data['runs'], 4)


if __name__ == '__main__':
  absltest.main()
