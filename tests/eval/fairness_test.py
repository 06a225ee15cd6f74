# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Fairness metrics, threshold debiasing, adapters and the report CLI."""

import contextlib
import io
import itertools
import json
import os
import tempfile

from absl.testing import absltest
import numpy as np

from vit22b_pax.data import procedural
from vit22b_pax.eval import fairness
from vit22b_pax.tools import fairness_report

# Group A: labels 1 1 0 0, preds 1 0 1 0; B: 1 0 0 -> 1 1 1; C (no
# positives): 0 0 -> 0 0.
SCORES = np.array([0.9, 0.2, 0.7, 0.1, 0.8, 0.6, 0.55, 0.3, 0.2])
LABELS = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0])
GROUPS = np.array(['A'] * 4 + ['B'] * 3 + ['C'] * 2)


class MetricsTest(absltest.TestCase):

  def test_hand_computed(self):
    with self.assertWarnsRegex(RuntimeWarning, r"TPR.*\['C'\]"):
      r = fairness.fairness_report(SCORES, LABELS, GROUPS)
    self.assertAlmostEqual(r['accuracy'], 5 / 9)
    self.assertEqual(r['worst_group'], 'B')
    self.assertAlmostEqual(r['worst_group_accuracy'], 1 / 3)
    g = r['groups']
    self.assertEqual((g['A']['tpr'], g['A']['fpr']), (0.5, 0.5))
    self.assertTrue(np.isnan(g['C']['tpr']))
    self.assertEqual(g['C']['positive_rate'], 0.0)
    self.assertAlmostEqual(r['demographic_parity_gap'], 1.0)
    self.assertAlmostEqual(r['tpr_gap'], 0.5)   # A vs B only; C skipped
    self.assertAlmostEqual(r['fpr_gap'], 1.0)
    self.assertAlmostEqual(r['equalized_odds_gap'], 1.0)

  def test_single_defined_group_gives_nan(self):
    with self.assertWarns(RuntimeWarning):
      r = fairness.fairness_report([0.9, 0.1], [1, 0], ['x', 'y'])
    self.assertTrue(np.isnan(r['tpr_gap']))
    self.assertTrue(np.isnan(r['fpr_gap']))
    self.assertTrue(np.isnan(r['equalized_odds_gap']))
    self.assertEqual(r['demographic_parity_gap'], 1.0)

  def test_multiclass_accuracy_only(self):
    probs = np.eye(3)[[0, 1, 2, 2]]
    r = fairness.fairness_report(probs, [0, 1, 1, 2], [0, 0, 1, 1])
    self.assertEqual(r['groups'][1]['accuracy'], 0.5)
    self.assertNotIn('demographic_parity_gap', r)

  def test_bad_shapes(self):
    with self.assertRaisesRegex(ValueError, 'labels'):
      fairness.fairness_report([0.1, 0.2], [1], [0, 1])


class DebiasTest(absltest.TestCase):

  def test_hand_case(self):
    s, y, g = [0.9, 0.8, 0.7, 0.1], [1, 1, 0, 0], ['a', 'a', 'b', 'b']
    for target, acc in ((0.0, 0.5), (0.5, 0.75), (1.0, 1.0)):
      r = fairness.debias_demographic_parity(s, y, g, target)
      self.assertAlmostEqual(r['accuracy'], acc)
      self.assertLessEqual(r['gap'], target + 1e-12)
      self.assertAlmostEqual(r['baseline_accuracy'], 0.75)
      self.assertAlmostEqual(r['baseline_gap'], 0.5)
      self.assertAlmostEqual(r['accuracy_cost'], 0.75 - acc)

  def test_matches_brute_force_with_ties(self):
    rng = np.random.default_rng(1)
    n = 24
    g = rng.integers(0, 2, n)
    y = (rng.random(n) < np.where(g == 1, 0.7, 0.3)).astype(int)
    s = np.round(np.clip(0.5 * y + 0.4 * g + rng.normal(0, 0.3, n), 0, 1), 1)
    target = 0.1
    r = fairness.debias_demographic_parity(s, y, g, target)
    self.assertLessEqual(r['gap'], target + 1e-9)

    def acc_curve(k):  # expected accuracy of group k at rate q (brute force)
      sk, yk = s[g == k], y[g == k]
      order = np.argsort(-sk, kind='stable')
      vals = np.unique(-sk)
      pts = [(0.0, np.mean(yk == 0))]
      for v in vals:
        pred = (-sk <= v).astype(int)
        pts.append((pred.mean(), np.mean(pred == yk)))
      del order
      xs, ys = zip(*pts)
      return lambda q: np.interp(q, xs, ys)

    c0, c1 = acc_curve(0), acc_curve(1)
    w1 = np.mean(g == 1)
    grid = np.linspace(0, 1, 401)
    best = max((1 - w1) * c0(a) + w1 * c1(b)
               for a, b in itertools.product(grid, grid)
               if abs(a - b) <= target + 1e-12)
    self.assertGreaterEqual(r['accuracy'], best - 1e-9)
    # The rules' expected accuracy equals their sampled accuracy.
    rng2 = np.random.default_rng(0)
    sampled = np.mean([np.mean(fairness.apply_rules(
        s, g, r['rules'], rng2) == y) for _ in range(2000)])
    self.assertAlmostEqual(sampled, r['accuracy'], delta=0.01)

  def test_unknown_group(self):
    r = fairness.debias_demographic_parity([0.2, 0.8], [0, 1], [0, 1], 0.5)
    with self.assertRaisesRegex(ValueError, 'no rule for group 7'):
      fairness.apply_rules([0.5], [7], r['rules'])


class AdaptersTest(absltest.TestCase):

  def test_procedural_examples(self):
    ex = {'label': np.array([0, 1, 2, 1]), 'subgroup': np.array([0, 1, 0, 1])}
    probs = np.eye(3)[[0, 1, 1, 1]]
    s, y, g = fairness.procedural_arrays(ex, probs, positive_class=1)
    np.testing.assert_array_equal(y, [0, 1, 0, 1])
    np.testing.assert_array_equal(s, [0, 1, 1, 1])
    r = fairness.fairness_report(*fairness.procedural_arrays(ex, probs))
    self.assertEqual(r['groups'][0]['accuracy'], 0.5)
    with self.assertRaisesRegex(ValueError, "lack 'subgroup'"):
      fairness.procedural_arrays({'label': ex['label']}, probs)

  def test_procedural_generator(self):
    gen = procedural.ShapeTextureGenerator(num_classes=4, subgroup_corr=1.0)
    attrs = gen.sample_attributes(range(16), 'test')
    probs = np.eye(4)[attrs['label']]
    r = fairness.fairness_report(*fairness.procedural_arrays(
        attrs, probs, positive_class=1))
    self.assertEqual(r['accuracy'], 1.0)
    # subgroup == label % 2: class 1 only in subgroup 1 -> DP gap > 0.
    self.assertGreater(r['demographic_parity_gap'], 0)

  def _celeba(self, body):
    path = os.path.join(tempfile.mkdtemp(), 'list_attr_celeba.txt')
    with open(path, 'w') as f:
      f.write(body)
    return path

  def test_celeba(self):
    names = [f'Attr{i}' for i in range(38)] + ['Male', 'Smiling']
    rows = ['000001.jpg ' + ' '.join(['-1'] * 38 + ['1', '-1']),
            '000002.jpg ' + ' '.join(['1'] * 38 + ['-1', '1'])]
    path = self._celeba('2\n' + ' '.join(names) + '\n' + '\n'.join(rows) +
                        '\n')
    ids, y, g = fairness.read_celeba_attributes(path, 'Smiling', 'Male')
    self.assertEqual(ids, ['000001.jpg', '000002.jpg'])
    np.testing.assert_array_equal(y, [0, 1])
    np.testing.assert_array_equal(g, [1, 0])
    with self.assertRaisesRegex(ValueError, "line 2: no attribute 'Young'"):
      fairness.read_celeba_attributes(path, 'Young', 'Male')
    bad = self._celeba('1\n' + ' '.join(names) + '\n000001.jpg ' +
                       ' '.join(['0'] * 40) + '\n')
    with self.assertRaisesRegex(ValueError, "line 3: value '0'"):
      fairness.read_celeba_attributes(bad, 'Smiling', 'Male')
    # CLI on CelebA attributes + a scores file.
    scores = os.path.join(os.path.dirname(path), 's.csv')
    with open(scores, 'w') as f:
      f.write('image_id,score\n000001.jpg,0.2\n000002.jpg,0.9\n')
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
      rc = fairness_report.main(['--scores', scores, '--celeba_attr', path,
                                 '--target', 'Smiling', '--sensitive', 'Male'])
    self.assertEqual(rc, 0)
    self.assertIn('accuracy 1.0000', out.getvalue())


class CliTest(absltest.TestCase):

  def test_csv_report(self):
    d = tempfile.mkdtemp()
    path = os.path.join(d, 'scores.csv')
    with open(path, 'w') as f:
      f.write('score,label,group\n')
      for s, y, g in zip(SCORES, LABELS, GROUPS):
        f.write(f'{s},{y},{g}\n')
    out = io.StringIO()
    with contextlib.redirect_stdout(out), self.assertWarns(RuntimeWarning):
      rc = fairness_report.main([
          '--scores', path, '--json', f'{d}/r.json', '--num_bins', '5',
          '--reliability_plot', f'{d}/rel.png', '--debias_target_gap', '0.2'])
    self.assertEqual(rc, 0)
    with open(f'{d}/r.json') as f:
      r = json.load(f)
    self.assertAlmostEqual(r['fairness']['demographic_parity_gap'], 1.0)
    self.assertIsNone(r['fairness']['groups']['C']['tpr'])
    self.assertLessEqual(r['debias']['gap'], 0.2 + 1e-9)
    self.assertIn('cost', out.getvalue())
    self.assertTrue(os.path.exists(f'{d}/rel.png'))
    with open(path, 'a') as f:
      f.write('abc,1,A\n')
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
      self.assertEqual(fairness_report.main(['--scores', path]), 2)
    self.assertIn("line 11: column 'score' value 'abc'", err.getvalue())


if __name__ == '__main__':
  absltest.main()
