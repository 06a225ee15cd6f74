# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Few-shot ridge solver against numpy.linalg.lstsq; shot sampling; errors."""

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from vit22b_pax.eval import fewshot


def _reference_weights(x, y, num_classes, l2):
  """Ridge regression as an augmented least-squares problem:
  min ||X W - Y||^2 + l2 ||W||^2 = min ||[X; sqrt(l2) I] W - [Y; 0]||^2."""
  mean, std = x.mean(0), x.std(0) + 1e-5
  xb = np.concatenate([(x - mean) / std, np.full((len(x), 1), 100.0)], 1)
  targets = np.where(y[:, None] == np.arange(num_classes), 1.0, -1.0)
  d = xb.shape[1]
  a = np.concatenate([xb, np.sqrt(l2) * np.eye(d)])
  b = np.concatenate([targets, np.zeros((d, num_classes))])
  return np.linalg.lstsq(a, b, rcond=None)[0], mean, std


class SolverTest(parameterized.TestCase):

  @parameterized.parameters((40, 7), (12, 30))  # N >= D+1 and N < D+1.
  def test_matches_lstsq(self, n, d):
    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, d)) * rng.uniform(0.1, 5, d) + rng.normal(size=d)
    y = rng.integers(0, 4, n)
    cache = fewshot.fit(x, y, 4)
    for l2 in (0.5, 16.0, 1024.0):
      want, mean, std = _reference_weights(x, y, 4, l2)
      np.testing.assert_allclose(cache.weights(l2), want, rtol=1e-7,
                                 atol=1e-9)
      x_test = rng.normal(size=(5, d))
      xt = np.concatenate([(x_test - mean) / std, np.full((5, 1), 100.0)], 1)
      np.testing.assert_allclose(cache.scores(x_test, l2), xt @ want,
                                 rtol=1e-7, atol=1e-9)

  def test_separable_classes_are_learned(self):
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(3, 16)) * 4
    y = np.repeat(np.arange(3), 10)
    x = centers[y] + rng.normal(size=(30, 16))
    y_test = np.repeat(np.arange(3), 50)
    x_test = centers[y_test] + rng.normal(size=(150, 16))
    self.assertEqual(
        fewshot.accuracy(fewshot.fit(x, y, 3), x_test, y_test, 1.0), 1.0)

  def test_bad_inputs(self):
    with self.assertRaisesRegex(ValueError, r'\[N, D\]'):
      fewshot.fit(np.zeros(5), np.zeros(5, int), 2)
    with self.assertRaisesRegex(ValueError, 'non-finite.*row 1'):
      fewshot.fit([[0.0], [np.nan]], [0, 1], 2)
    with self.assertRaisesRegex(ValueError, r'in \[0, 2\)'):
      fewshot.fit([[0.0], [1.0]], [0, 2], 2)
    with self.assertRaisesRegex(ValueError, 'at least 2 classes'):
      fewshot.fit([[0.0], [1.0]], [0, 0], 1)
    with self.assertRaisesRegex(ValueError, 'l2'):
      fewshot.fit([[0.0], [1.0]], [0, 1], 2).weights(0.0)


class ShotsTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.labels = np.random.default_rng(1).permutation(np.repeat(
        np.arange(4), [9, 12, 7, 30]))

  def test_balanced_grouped_and_deterministic(self):
    for k in (1, 5, 7):
      idx = fewshot.sample_shots(self.labels, 4, k, seed=3)
      self.assertLen(idx, 4 * k)
      self.assertLen(set(idx.tolist()), 4 * k)
      np.testing.assert_array_equal(self.labels[idx],
                                    np.repeat(np.arange(4), k))
      np.testing.assert_array_equal(
          idx, fewshot.sample_shots(self.labels, 4, k, seed=3))
    self.assertFalse(np.array_equal(
        fewshot.sample_shots(self.labels, 4, 5, seed=0),
        fewshot.sample_shots(self.labels, 4, 5, seed=1)))

  def test_smaller_shot_sets_are_nested(self):
    one = fewshot.sample_shots(self.labels, 4, 1, seed=2)
    five = fewshot.sample_shots(self.labels, 4, 5, seed=2).reshape(4, 5)
    np.testing.assert_array_equal(one, five[:, 0])

  def test_too_many_shots_names_the_class(self):
    with self.assertRaisesRegex(ValueError,
                                r'8-shot.*class 2 has only 7.*\[2\]'):
      fewshot.sample_shots(self.labels, 4, 8, seed=0)
    with self.assertRaisesRegex(ValueError, '10-shot.*class 0 has only 9'):
      fewshot.evaluate(np.zeros((58, 2)), self.labels, np.zeros((3, 2)),
                       [0, 1, 2], 4, shots=(1, 10))

  def test_fewer_classes_than_requested(self):
    with self.assertRaisesRegex(ValueError,
                                r'6 classes.*only 4.*class\(es\) \[4, 5\]'):
      fewshot.sample_shots(self.labels, 6, 1, seed=0)
    with self.assertRaisesRegex(ValueError, 'shots=0'):
      fewshot.sample_shots(self.labels, 4, 0, seed=0)


class ChooseL2Test(absltest.TestCase):

  def test_cross_validation_scores_by_hand(self):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 4)
    x = rng.normal(size=(3, 6))[y] * 2 + rng.normal(size=(12, 6))
    grid = (1.0, 100.0, 1e6)
    l2, scores = fewshot.choose_l2(x, y, 3, 4, grid, max_folds=2)
    # Independent computation: fold f holds out within-class positions f, f+2.
    pos = np.tile(np.arange(4), 3)
    want = {}
    for v in grid:
      accs = []
      for f in range(2):
        held = pos % 2 == f
        w, mean, std = _reference_weights(x[~held], y[~held], 3, v)
        xt = np.concatenate([(x[held] - mean) / std,
                             np.full((held.sum(), 1), 100.0)], 1)
        accs.append(np.mean(np.argmax(xt @ w, 1) == y[held]))
      want[v] = np.mean(accs)
    self.assertEqual(set(scores), set(grid))
    for v in grid:
      self.assertAlmostEqual(scores[v], want[v])
    best = max(want.values())
    tied = [v for v in grid if want[v] == best]
    # The tie rule: closest to 2^10 in log2 distance, the larger if two.
    self.assertEqual(
        l2, min(tied, key=lambda v: (abs(np.log2(v) - 10), -v)))

  def test_ties_go_to_closest_to_default_then_larger(self):
    self.assertEqual(fewshot.break_tie([2.0**-4, 2.0**14]), 2.0**14)
    self.assertEqual(fewshot.break_tie([2.0**-4, 2.0**8, 2.0**14]), 2.0**8)
    self.assertEqual(fewshot.break_tie([2.0**9, 2.0**11]), 2.0**11)
    self.assertEqual(fewshot.break_tie([2.0**9, 2.0**10, 2.0**11]), 2.0**10)
    self.assertEqual(fewshot.break_tie([1.0, 4.0], default_l2=2.0), 4.0)
    with self.assertRaisesRegex(ValueError, 'at least one'):
      fewshot.break_tie([])

  def test_all_tied_selection_returns_default(self):
    # Well separated classes: every l2 of the grid classifies the held-out
    # shots perfectly, so all tie and the rule gives 2^10 (formerly 2^14).
    y = np.repeat(np.arange(3), 4)
    x = 50.0 * np.eye(3)[y] + 0.01 * np.random.default_rng(0).normal(
        size=(12, 3))
    l2, scores = fewshot.choose_l2(x, y, 3, 4)
    self.assertEqual(set(scores.values()), {1.0})
    self.assertEqual(l2, fewshot.DEFAULT_L2)

  def test_grid_is_every_power_of_two(self):
    self.assertEqual(fewshot.DEFAULT_L2_GRID,
                     tuple(2.0**p for p in range(-4, 15)))
    self.assertEqual(fewshot.DEFAULT_L2, 1024.0)
    self.assertEqual(fewshot.DEFAULT_L2_SELECTION, 'fixed')

  def test_one_shot_uses_default(self):
    l2, scores = fewshot.choose_l2(np.eye(3), [0, 1, 2], 3, 1,
                                   default_l2=7.0)
    self.assertEqual((l2, scores), (7.0, {}))

  def test_ungrouped_shots_rejected(self):
    with self.assertRaisesRegex(ValueError, 'grouped by class'):
      fewshot.choose_l2(np.zeros((4, 2)), [0, 1, 0, 1], 2, 2)


class EvaluateTest(absltest.TestCase):

  def test_mean_and_spread_over_seeds(self):
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(5, 32))
    y = rng.integers(0, 5, 400)
    x = centers[y] + 1.5 * rng.normal(size=(400, 32))
    yt = rng.integers(0, 5, 300)
    xt = centers[yt] + 1.5 * rng.normal(size=(300, 32))
    res = fewshot.evaluate(x, y, xt, yt, 5, shots=(1, 5, 25), num_seeds=4)
    self.assertEqual(sorted(res), [1, 5, 25])
    for k, r in res.items():
      self.assertLen(r.accuracies, 4)
      self.assertAlmostEqual(r.mean, np.mean(r.accuracies))
      self.assertAlmostEqual(r.std, np.std(r.accuracies, ddof=1))
      self.assertLessEqual(r.min, r.mean)
      # Each seed's number is the solver's on that seed's shots.
      idx = fewshot.sample_shots(y, 5, k, seed=2)
      cache = fewshot.fit(x[idx], y[idx], 5)
      self.assertAlmostEqual(r.accuracies[2],
                             fewshot.accuracy(cache, xt, yt, r.l2[2]))
    self.assertEqual(res[1].l2, (fewshot.DEFAULT_L2,) * 4)
    self.assertGreater(res[25].mean, res[1].mean)
    self.assertGreater(res[25].mean, 0.8)
    self.assertIn('| a | ', fewshot.format_table({'a': res}))

  def test_default_fixed_l2_and_held_out_option(self):
    rng = np.random.default_rng(3)
    centers = rng.normal(size=(3, 8))
    y = rng.integers(0, 3, 120)
    x = centers[y] + rng.normal(size=(120, 8))
    yt = rng.integers(0, 3, 60)
    xt = centers[yt] + rng.normal(size=(60, 8))
    res = fewshot.evaluate(x, y, xt, yt, 3, shots=(1, 5), num_seeds=2)
    for k in (1, 5):
      self.assertEqual(res[k].l2, (1024.0, 1024.0))
      idx = fewshot.sample_shots(y, 3, k, seed=1)
      # numpy reference: the ridge solution at l2 = 1024 on seed 1's shots.
      w, mean, std = _reference_weights(x[idx], y[idx], 3, 1024.0)
      xb = np.concatenate([(xt - mean) / std, np.full((60, 1), 100.0)], 1)
      self.assertAlmostEqual(res[k].accuracies[1],
                             np.mean(np.argmax(xb @ w, 1) == yt))
    held = fewshot.evaluate(x, y, xt, yt, 3, shots=(1, 5), num_seeds=2,
                            l2_selection='held_out')
    self.assertEqual(held[1].l2, (1024.0, 1024.0))
    for seed in (0, 1):
      idx = fewshot.sample_shots(y, 3, 5, seed)
      want, _ = fewshot.choose_l2(x[idx], y[idx], 3, 5)
      self.assertEqual(held[5].l2[seed], want)
    with self.assertRaisesRegex(ValueError, "l2_selection 'cv'.*held_out"):
      fewshot.evaluate(x, y, xt, yt, 3, shots=(1,), l2_selection='cv')

  def test_dimension_mismatch(self):
    with self.assertRaisesRegex(ValueError, '3 dims, test features 2'):
      fewshot.evaluate(np.zeros((4, 3)), [0, 1, 0, 1], np.zeros((2, 2)),
                       [0, 1], 2, shots=(1,))


if __name__ == '__main__':
  absltest.main()
