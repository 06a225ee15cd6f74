# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Dense metrics against numpy references written here."""

from absl.testing import absltest
import jax
import numpy as np
from praxis import test_utils

from vit22b_pax.eval import dense_metrics as dm


def np_seg_scores(labels, preds, weights, k):
  """Per-class loops over the pooled pixels of every batch."""
  lab = np.concatenate([x.ravel() for x in labels])
  pr = np.concatenate([x.ravel() for x in preds])
  w = np.concatenate([x.ravel() for x in weights])
  keep = (w > 0) & (lab >= 0) & (lab < k)
  lab, pr = lab[keep], pr[keep]
  ious, recalls = [], []
  for c in range(k):
    inter = np.sum((lab == c) & (pr == c))
    union = np.sum((lab == c) | (pr == c))
    if union:
      ious.append(inter / union)
    if np.sum(lab == c):
      recalls.append(inter / np.sum(lab == c))
  return dict(miou=np.mean(ious), pixel_accuracy=np.mean(lab == pr),
              mean_accuracy=np.mean(recalls))


def np_depth_scores(preds, depths, valids, lo, hi, strict=False):
  """Pooled: every valid pixel of every batch at once."""
  p = np.concatenate([x.ravel() for x in preds]).astype(np.float64)
  d = np.concatenate([x.ravel() for x in depths]).astype(np.float64)
  v = np.concatenate([x.ravel() for x in valids])
  if strict:
    keep = (v > 0) & (d > lo) & (d < hi)
  else:
    keep = (v > 0) & (d >= lo) & (d <= hi)
  p, d = np.clip(p[keep], lo, hi), d[keep]
  ratio = np.maximum(p / d, d / p)
  return dict(rmse=np.sqrt(np.mean((p - d) ** 2)),
              abs_rel=np.mean(np.abs(p - d) / d),
              log10=np.mean(np.abs(np.log10(p) - np.log10(d))),
              delta1=np.mean(ratio < 1.25), delta2=np.mean(ratio < 1.25 ** 2),
              delta3=np.mean(ratio < 1.25 ** 3))


def np_depth_scores_per_image(preds, depths, valids, lo, hi):
  """big_vision's nyu_depth convention: a loop over images, each scored on
  its strictly valid pixels (lo < gt < hi), then the mean over images."""
  scores = []
  for batch in zip(preds, depths, valids):
    for p, d, v in zip(*batch):
      if np.sum((v > 0) & (d > lo) & (d < hi)):
        scores.append(np_depth_scores([p], [d], [v], lo, hi, strict=True))
  return {k: np.mean([x[k] for x in scores]) for k in scores[0]}


class SegmentationMetricsTest(test_utils.TestCase):

  def _batches(self, seed, k=5, shape=(2, 6, 7)):
    rng = np.random.default_rng(seed)
    labels, preds, weights = [], [], []
    for _ in range(3):
      lab = rng.integers(-1, k, shape)  # -1 = ignore label.
      lab[lab == 3] = 4  # Class 3 never appears in the ground truth ...
      pr = np.where(rng.random(shape) < 0.6, np.maximum(lab, 0),
                    rng.integers(0, k, shape))
      pr[pr == 2] = 1  # ... and class 2 is never predicted.
      w = (rng.random(shape) < 0.9).astype(np.float32)
      w[-1] = 0.0  # A padded example.
      labels.append(lab)
      preds.append(pr)
      weights.append(w)
    return labels, preds, weights

  def test_pooled_over_batches_matches_numpy(self):
    k = 6  # Class 5 is empty in both: skipped by mIoU.
    labels, preds, weights = self._batches(0, k=5)
    metric = None
    for lab, pr, w in zip(labels, preds, weights):
      m = jax.jit(dm.SegmentationMetrics.from_batch, static_argnums=3)(
          lab, pr, w, k)
      metric = m if metric is None else metric.merge(m)
    got = metric.compute()
    want = np_seg_scores(labels, preds, weights, k)
    for name, value in want.items():
      self.assertAlmostEqual(got[name], value, places=12, msg=name)
    self.assertTrue(np.isnan(got['iou_5']))
    self.assertEqual(metric.matrix.dtype, np.int64)
    # Not the mean of per-batch mIoUs.
    per_batch = [np_seg_scores([l], [p], [w], k)['miou']
                 for l, p, w in zip(labels, preds, weights)]
    self.assertNotAlmostEqual(np.mean(per_batch), got['miou'], places=4)

  def test_confusion_matrix_counts(self):
    labels = np.array([[0, 1, 1, 2, -1, 7]])
    preds = np.array([[0, 1, 2, 2, 0, 0]])
    weights = np.array([[1, 1, 1, 0, 1, 1]], np.float32)
    m = np.asarray(dm.confusion_matrix(labels, preds, weights, 3))
    want = np.zeros((3, 3), int)
    want[0, 0] = want[1, 1] = want[1, 2] = 1
    self.assertArraysEqual(m, want)

  def test_perfect_and_empty(self):
    lab = np.array([[0, 1, 1, 3]])
    s = dm.segmentation_scores(dm.confusion_matrix(lab, lab, np.ones((1, 4)),
                                                   4))
    self.assertEqual(s['miou'], 1.0)  # Class 2 absent: not averaged in.
    self.assertEqual(s['pixel_accuracy'], 1.0)
    s = dm.segmentation_scores(np.zeros((3, 3)))
    self.assertTrue(np.isnan(s['miou']) and np.isnan(s['pixel_accuracy']))

  def test_compute_value_for_summaries(self):
    lab = np.array([[0, 1, 1]])
    metric = dm.SegmentationMetrics.from_batch(lab, lab, np.ones((1, 3)), 3)
    values = metric.compute_value()
    self.assertEqual(set(values), {'miou', 'pixel_accuracy', 'mean_accuracy',
                                   'iou_0', 'iou_1'})
    self.assertEqual(values['miou'].value, 1.0)


def _random_batches(seed=1):
  rng = np.random.default_rng(seed)
  preds, depths, valids = [], [], []
  for _ in range(3):
    d = rng.uniform(0.5, 12.0, (2, 5, 9)).astype(np.float32)
    d[0, 0, :3] = 0.0  # Sensor holes (also marked invalid below).
    d[1, 2, :2] = 10.0  # At max_depth: counted only by 'inclusive'.
    p = (d * np.exp(rng.normal(0, 0.3, d.shape))).astype(np.float32)
    p[1, 1, 1] = -2.0  # Clipped to min_depth.
    v = (rng.random(d.shape) < 0.8).astype(np.float32)
    v[0, 0, :3] = 0.0
    v[1, 2, :2] = 1.0
    preds.append(p)
    depths.append(d)
    valids.append(v)
  # A padded example (weight 0 on every pixel) counts nowhere.
  valids[2][1] = 0.0
  return preds, depths, valids


def _merged(preds, depths, valids, **kw):
  fn = jax.jit(lambda p, d, v: dm.DepthMetrics.from_batch(
      p, d, v, 1e-3, 10.0, **kw))
  metric = None
  for p, d, v in zip(preds, depths, valids):
    m = fn(p, d, v)
    metric = m if metric is None else metric.merge(m)
  return metric.compute()


class DepthMetricsTest(test_utils.TestCase):

  def test_default_is_per_image_strict_matching_numpy(self):
    preds, depths, valids = _random_batches()
    got = _merged(preds, depths, valids)
    want = np_depth_scores_per_image(preds, depths, valids, 1e-3, 10.0)
    self.assertEqual(set(got), set(want))
    for name, value in want.items():
      self.assertAllClose(value, got[name], rtol=1e-5, atol=1e-6)
    # Explicit options give the same.
    explicit = _merged(preds, depths, valids, reduction='per_image',
                       mask='strict')
    self.assertEqual(got, explicit)

  def test_per_image_differs_from_pooled(self):
    # Two images of ground truth 2 m: one with 1 valid pixel off by 3 m, one
    # with 3 valid pixels off by 1 m. Per image: RMSE (3 + 1) / 2 = 2;
    # pooled: sqrt((9 + 3 * 1) / 4) = sqrt(3).
    d = np.full((2, 1, 3), 2.0, np.float32)
    p = np.array([[[5.0, 2.0, 2.0]], [[3.0, 3.0, 3.0]]], np.float32)
    v = np.array([[[1, 0, 0]], [[1, 1, 1]]], np.float32)
    per_image = dm.DepthMetrics.from_batch(p, d, v, 1e-3, 10.0).compute()
    pooled = dm.DepthMetrics.from_batch(p, d, v, 1e-3, 10.0,
                                        reduction='pooled').compute()
    self.assertAllClose(per_image['rmse'], 2.0)
    self.assertAllClose(pooled['rmse'], np.sqrt(3.0))
    self.assertAllClose(per_image['abs_rel'], (1.5 + 0.5) / 2)
    self.assertAllClose(pooled['abs_rel'], (1.5 + 3 * 0.5) / 4)
    want = np_depth_scores_per_image([p], [d], [v], 1e-3, 10.0)
    self.assertAllClose(per_image['rmse'], want['rmse'])
    # On random data too.
    preds, depths, valids = _random_batches()
    self.assertGreater(
        abs(_merged(preds, depths, valids)['rmse']
            - _merged(preds, depths, valids, reduction='pooled')['rmse']),
        1e-3)

  def test_strict_mask_excludes_range_ends(self):
    d = np.array([[1e-3, 0.5, 2.0, 10.0]], np.float32)
    p = np.array([[4.0, 0.5, 2.0, 1.0]], np.float32)
    ones = np.ones_like(d)
    strict = dm.DepthMetrics.from_batch(p, d, ones, 1e-3, 10.0).compute()
    self.assertEqual(strict['rmse'], 0.0)  # Only 0.5 and 2.0 count.
    self.assertEqual(strict['delta1'], 1.0)
    inclusive = dm.DepthMetrics.from_batch(p, d, ones, 1e-3, 10.0,
                                           mask='inclusive').compute()
    self.assertGreater(inclusive['rmse'], 1.0)
    self.assertEqual(inclusive['delta1'], 0.5)
    m = dm.depth_mask(d, ones, 1e-3, 10.0)
    np.testing.assert_array_equal(m, [[False, True, True, False]])
    m = dm.depth_mask(d, ones, 1e-3, 10.0, 'inclusive')
    np.testing.assert_array_equal(m, [[True, True, True, True]])

  def test_bad_options_and_mixed_merge(self):
    d = np.ones((1, 3), np.float32)
    with self.assertRaisesRegex(ValueError, "reduction 'mean'.*per_image"):
      dm.DepthMetrics.from_batch(d, d, d, 1e-3, 10.0, reduction='mean')
    with self.assertRaisesRegex(ValueError, "mask 'open'.*strict"):
      dm.DepthMetrics.from_batch(d, d, d, 1e-3, 10.0, mask='open')
    a = dm.DepthMetrics.from_batch(d, d, d, 1e-3, 10.0)
    b = dm.DepthMetrics.from_batch(d, d, d, 1e-3, 10.0, reduction='pooled')
    with self.assertRaisesRegex(ValueError, 'different reductions'):
      a.merge(b)

  def test_pooled_inclusive_over_batches_matches_numpy(self):
    preds, depths, valids = _random_batches()
    got = _merged(preds, depths, valids, reduction='pooled',
                  mask='inclusive')
    want = np_depth_scores(preds, depths, valids, 1e-3, 10.0)
    self.assertEqual(set(got), set(want))
    for name, value in want.items():
      self.assertAllClose(value, got[name], rtol=1e-5, atol=1e-6)
    # Pooled RMSE is not the mean of per-batch RMSEs.
    per_batch = [np_depth_scores([p], [d], [v], 1e-3, 10.0)['rmse']
                 for p, d, v in zip(preds, depths, valids)]
    self.assertGreater(abs(np.mean(per_batch) - got['rmse']), 1e-4)

  def test_exact_prediction_and_empty(self):
    d = np.array([[1.0, 2.0, 4.0]], np.float32)
    s = dm.DepthMetrics.from_batch(d, d, np.ones_like(d), 1e-3, 10.0).compute()
    self.assertAllClose([s['rmse'], s['abs_rel'], s['log10']], [0., 0., 0.],
                        atol=1e-7)
    self.assertEqual((s['delta1'], s['delta2'], s['delta3']), (1.0, 1.0, 1.0))
    s = dm.DepthMetrics.from_batch(d, d, np.zeros_like(d), 1e-3,
                                   10.0).compute()
    self.assertTrue(all(np.isnan(v) for v in s.values()))

  def test_delta_thresholds(self):
    d = np.ones((1, 4), np.float32)
    p = np.array([[1.2, 1.3, 1.6, 2.0]], np.float32)  # 1.25^2 = 1.5625.
    s = dm.DepthMetrics.from_batch(p, d, np.ones_like(d), 1e-3,
                                   10.0).compute()
    self.assertEqual((s['delta1'], s['delta2'], s['delta3']),
                     (0.25, 0.5, 0.75))


if __name__ == '__main__':
  absltest.main()
