# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The distillation-gain tool's statistics, table and re-rendering."""

import json
import math
import os
import tempfile

from absl.testing import absltest

from vit22b_pax.tools import distill_gain


def _rows(distilled, scratch, teacher=0.7):
  return [dict(seed=i, distilled=d, scratch=s, teacher=teacher)
          for i, (d, s) in enumerate(zip(distilled, scratch))]


class DistillGainTest(absltest.TestCase):

  def test_parse_seeds(self):
    self.assertEqual(distill_gain.parse_seeds('2,0,1,2'), [0, 1, 2])
    for bad in ('0', '0,0', 'a,b', '-1,2'):
      with self.assertRaisesRegex(ValueError, '--seeds'):
        distill_gain.parse_seeds(bad)

  def test_binomial_se(self):
    self.assertAlmostEqual(distill_gain.binomial_se(0.5, 100), 0.05)
    with self.assertRaisesRegex(ValueError, 'examples'):
      distill_gain.binomial_se(0.5, 0)

  def test_gain_is_paired_and_judged_against_both_noises(self):
    # Paired gains 0.10, 0.12, 0.08: mean 0.10, std 0.02, se 0.02/sqrt(3).
    rows = _rows([0.50, 0.42, 0.38], [0.40, 0.30, 0.30])
    s = distill_gain.summarize(rows, eval_examples=2048)
    self.assertAlmostEqual(s['gain']['mean'], 0.10)
    self.assertAlmostEqual(s['gain']['std'], 0.02)
    self.assertAlmostEqual(s['gain']['se'], 0.02 / math.sqrt(3))
    se = math.sqrt(s['distilled']['mean'] * (1 - s['distilled']['mean'])
                   / 2048)
    self.assertAlmostEqual(s['binomial_se'], se)
    noise = max(0.02 / math.sqrt(3), math.sqrt(2) * se)
    self.assertAlmostEqual(s['gain_over_noise'], 0.10 / noise)
    self.assertTrue(s['beyond_noise'])
    # The same mean gain on 64 eval images is within the sampling noise.
    self.assertFalse(distill_gain.summarize(rows, 64)['beyond_noise'])
    # Gains of opposite signs: within the seed noise.
    mixed = distill_gain.summarize(
        _rows([0.50, 0.30, 0.45], [0.40, 0.35, 0.40]), 100_000)
    self.assertFalse(mixed['beyond_noise'])

  def test_rerenders_from_json(self):
    out = tempfile.mkdtemp()
    src = os.path.join(out, 'in.json')
    with open(src, 'w') as f:
      json.dump({'args': {'steps': 3000, 'seeds': [0, 1],
                          'learning_rate': 1e-3, 'eval_every': 1000,
                          'eval_examples': 2048, 'teacher': '/t'},
                 'rows': _rows([0.5, 0.4], [0.45, 0.41])}, f)
    self.assertEqual(distill_gain.main(
        ['--teacher', '/t', '--from_json', src, '--out', out]), 0)
    table = open(os.path.join(out, 'distill_gain.md')).read()
    self.assertIn('| 0 | 0.700 | 0.500 | 0.450 | +0.050 |', table)
    self.assertIn('| 1 | 0.700 | 0.400 | 0.410 | -0.010 |', table)
    self.assertIn('--steps 3000 --seeds 0,1', table)
    self.assertIn('Gain beyond 2x the larger noise: no.', table)

  def test_bad_teacher_is_an_error_before_any_run(self):
    with self.assertRaises(SystemExit):
      distill_gain.main(['--teacher', '/nonexistent', '--out',
                         tempfile.mkdtemp()])


if __name__ == '__main__':
  absltest.main()
