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
    self.assertLen(got['peak_times_s']['before']['128'], 7)
    ratio = got['speedups']['parallel/sequential']
    self.assertLen(ratio['per_round'], 7)
    self.assertAlmostEqual(ratio['per_round'][0],
                           rows['sequential']['times_s'][0] /
                           rows['parallel']['times_s'][0])

  def test_needs_seven_steps(self):
    with self.assertRaisesRegex(ValueError, '--steps must be >= 7'):
      bench.main(['--steps', '5'])


if __name__ == '__main__':
  absltest.main()
