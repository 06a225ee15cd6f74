# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The train-step benchmark: paired statistics, peaks, JSON."""

import json
import os
import tempfile

from absl.testing import absltest
from praxis import test_utils

from vit22b_pax.tools import bench


class BenchTest(test_utils.TestCase):

  def test_paired_ratios(self):
    a = dict(times=[1.0, 2.0, 1.0, 4.0])
    b = dict(times=[1.5, 2.0, 3.0, 4.4])
    r = bench.paired_ratios(a, b)
    self.assertEqual(r['per_round'], [1.5, 1.0, 3.0, 1.1])
    self.assertAlmostEqual(r['median'], 1.3)
    self.assertEqual((r['min'], r['max']), (1.0, 3.0))

  def test_tiny_run_json(self):
    with tempfile.TemporaryDirectory() as tmp:
      out = os.path.join(tmp, 'bench.json')
      bench.main(['--variant', 'Ti/16', '--image_size', '32', '--batch', '2',
                  '--num_classes', '10', '--models', 'parallel,sequential',
                  '--override', 'num_layers=1', '--peak_sizes', '128',
                  '--warmup', '1', '--json', out])
      with open(out) as f:
        got = json.load(f)
    rows = {r['model']: r for r in got['results']}
    for row in rows.values():
      self.assertLen(row['times_s'], 7)
      self.assertEqual(row['step_best_s'], min(row['times_s']))
      # The counted parameters are the model's actual ones.
      self.assertEqual(row['counted_params'], row['num_params'])
      self.assertGreater(row['mfu_best'], 0)
    self.assertEqual(set(got['peak_times_s']), {'before', 'after'})
    self.assertEqual(set(got['load_average_1min']), {'before', 'after'})
    self.assertIsInstance(got['quiet'], bool)
    self.assertTrue(got['enough_rounds'])
    self.assertLen(got['peak_times_s']['before']['128'], 7)
    ratio = got['speedups']['parallel/sequential']
    self.assertLen(ratio['per_round'], 7)
    self.assertAlmostEqual(ratio['per_round'][0],
                           rows['sequential']['times_s'][0] /
                           rows['parallel']['times_s'][0])

  def test_needs_a_step(self):
    with self.assertRaisesRegex(ValueError, '--steps and --warmup must be'):
      bench.main(['--steps', '0'])

  def test_quiet_check(self):
    gf = 1e9
    # Quiet: load at most the cores, peaks within 15% of the larger.
    self.assertEqual(bench.quiet_check([1.5, 2.0], 2, [350 * gf, 330 * gf]),
                     (True, []))
    self.assertEqual(bench.quiet_check([16.0], 16, [100 * gf, 85 * gf]),
                     (True, []))
    # The benchmark's own threads load every core: after the rounds up to
    # 2 x cores is still quiet, more is not; before them, the cores.
    self.assertTrue(bench.quiet_check([1.0, 6.5], 4, [350 * gf, 340 * gf])[0])
    quiet, warnings = bench.quiet_check([1.0, 9.0], 4, [350 * gf, 340 * gf])
    self.assertFalse(quiet)
    self.assertLen(warnings, 1)
    self.assertIn('load average 9.00 after the rounds exceeds 2 x 4 cores',
                  warnings[0])
    quiet, warnings = bench.quiet_check([4.5, 5.0], 4, [350 * gf, 340 * gf])
    self.assertIn('load average 4.50 before the rounds exceeds the 4 cores',
                  warnings[0])
    # Drifting: the peaks differ by 20% of the larger.
    quiet, warnings = bench.quiet_check([0.5], 8, [75 * gf, 60 * gf])
    self.assertFalse(quiet)
    self.assertIn('differ by 20%', warnings[0])
    # Both, one warning each; no peaks (accelerator table peak): load only.
    self.assertLen(bench.quiet_check([11.0], 4, [370 * gf, 39 * gf])[1], 2)
    self.assertEqual(bench.quiet_check([0.1], 1), (True, []))
    self.assertFalse(bench.quiet_check([1.2], 1)[0])
    for args, message in ((([], 4), 'at least one load'),
                          (([1.0], 0), 'cpus must be >= 1'),
                          (([-1.0], 4), 'must be >= 0'),
                          (([1.0], 4, [0.0, 1.0]), 'Peaks must be > 0')):
      with self.assertRaisesRegex(ValueError, message):
        bench.quiet_check(*args)


if __name__ == '__main__':
  absltest.main()
