# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests for the multi-label metrics against naive numpy references."""

from absl.testing import absltest
from absl.testing import parameterized
import jax.numpy as jnp
import numpy as np

from vit22b_pax.models import multilabel


def _ref_precision_at_1(scores, labels, w):
  hits = [labels[i, np.argmax(scores[i])] > 0.5 for i in range(len(scores))]
  return np.sum(np.array(hits) * w) / np.sum(w)


def _ref_example_map(scores, labels, w):
  """Mean over weighted examples with positives of the label-ranking AP."""
  total, weight = 0.0, 0.0
  for i in range(len(scores)):
    pos = np.flatnonzero(labels[i] > 0.5)
    if not len(pos) or w[i] == 0:
      continue
    ap = np.mean([np.sum(scores[i, pos] >= scores[i, j])
                  / np.sum(scores[i] >= scores[i, j]) for j in pos])
    total += w[i] * ap
    weight += w[i]
  return total / weight


def _ref_class_ap(scores, labels, w):
  """Per class: mean over positives i of precision among items >= s_i."""
  out = []
  for c in range(scores.shape[1]):
    s, y = scores[:, c], labels[:, c] > 0.5
    keep = w > 0
    if not np.any(y & keep):
      out.append(np.nan)
      continue
    precisions, weights = [], []
    for i in np.flatnonzero(y & keep):
      above = keep & (s >= s[i])
      precisions.append(np.sum(w[above & y]) / np.sum(w[above]))
      weights.append(w[i])
    out.append(np.average(precisions, weights=weights))
  return np.array(out)


def _data(n=23, k=6, seed=0, ties=False):
  rng = np.random.default_rng(seed)
  scores = rng.normal(size=(n, k))
  if ties:
    scores = np.round(scores)  # Many tied scores.
  labels = (rng.random((n, k)) < 0.3).astype(np.float32)
  labels[:, -1] = 0  # A class without any positive.
  labels[3] = 0  # An example without any positive.
  w = np.ones(n)
  w[[5, 9]] = 0  # Padding / unreadable rows.
  labels[5, -1] = 1  # A positive that only a weight-0 row carries.
  return scores.astype(np.float32), labels, w.astype(np.float32)


class MultilabelTest(parameterized.TestCase):

  @parameterized.parameters(False, True)
  def test_batch_metrics(self, ties):
    scores, labels, w = _data(ties=ties)
    p1, p1_w = multilabel.precision_at_1(jnp.asarray(scores),
                                         jnp.asarray(labels), jnp.asarray(w))
    np.testing.assert_allclose(p1, _ref_precision_at_1(scores, labels, w),
                               rtol=1e-6)
    self.assertEqual(float(p1_w), w.sum())
    emap, emap_w = multilabel.example_map(jnp.asarray(scores),
                                          jnp.asarray(labels), jnp.asarray(w))
    np.testing.assert_allclose(emap, _ref_example_map(scores, labels, w),
                               rtol=1e-5)
    # Example 3 (no positive) and rows 5, 9 (weight 0) are left out.
    has_pos = (labels.sum(1) > 0) & (w > 0)
    self.assertEqual(float(emap_w), has_pos.sum())

  def test_example_map_is_exact_over_batches(self):
    scores, labels, w = _data(n=40, seed=3)
    parts = [multilabel.example_map(jnp.asarray(scores[i:i + 8]),
                                    jnp.asarray(labels[i:i + 8]),
                                    jnp.asarray(w[i:i + 8]))
             for i in range(0, 40, 8)]
    # paxml's weighted mean over eval batches.
    pooled = sum(float(v) * float(n) for v, n in parts) / sum(
        float(n) for _, n in parts)
    np.testing.assert_allclose(pooled, _ref_example_map(scores, labels, w),
                               rtol=1e-5)

  @parameterized.parameters(False, True)
  def test_class_ap(self, ties):
    scores, labels, w = _data(ties=ties)
    ap = multilabel.class_average_precision(scores, labels, w)
    np.testing.assert_allclose(ap, _ref_class_ap(scores, labels, w),
                               rtol=1e-6)
    # The class without positives (its only positive has weight 0) is NaN
    # and left out of the mean.
    self.assertTrue(np.isnan(ap[-1]))
    mean, n = multilabel.class_mean_average_precision(scores, labels, w)
    self.assertEqual(n, 5)
    np.testing.assert_allclose(mean, np.nanmean(_ref_class_ap(
        scores, labels, w)), rtol=1e-6)

  def test_class_ap_known_values(self):
    # Class 0: ranks 1 (pos), 2 (neg), 3 (pos): AP = (1/1 + 2/3) / 2.
    # Class 1: a three-way tie holding 1 positive: AP = 1/3.
    scores = np.array([[0.9, 0.5], [0.8, 0.5], [0.7, 0.5]])
    labels = np.array([[1, 0], [0, 1], [1, 0]])
    np.testing.assert_allclose(
        multilabel.class_average_precision(scores, labels),
        [(1 + 2 / 3) / 2, 1 / 3])
    mean, n = multilabel.class_mean_average_precision(
        scores, np.zeros_like(labels))
    self.assertTrue(np.isnan(mean))
    self.assertEqual(n, 0)

  def test_from_per_example_outputs(self):
    scores, labels, w = _data(n=20, seed=4)
    batches = [dict(scores=scores[i:i + 8], labels=labels[i:i + 8],
                    weights=w[i:i + 8]) for i in range(0, 20, 8)]
    self.assertEqual(multilabel.class_map_from_per_example(batches),
                     multilabel.class_mean_average_precision(scores, labels,
                                                             w))
    with self.assertRaisesRegex(ValueError, 'empty'):
      multilabel.class_map_from_per_example([])

  def test_bad_shapes(self):
    with self.assertRaisesRegex(ValueError, r'\[N, K\]'):
      multilabel.class_average_precision(np.zeros((3, 2)), np.zeros((3, 3)))
    with self.assertRaisesRegex(ValueError, 'weights'):
      multilabel.class_average_precision(np.zeros((3, 2)), np.zeros((3, 2)),
                                         np.ones(2))


if __name__ == '__main__':
  absltest.main()
