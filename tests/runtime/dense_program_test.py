# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Pooled CLU metrics handed to paxml's eval-metric path."""

from absl.testing import absltest
import numpy as np
from paxml import base_metrics
from paxml import metric_utils

from vit22b_pax.eval import dense_metrics
from vit22b_pax.runtime import dense_program


class PooledEntriesTest(absltest.TestCase):

  def test_single_unit_weight_entries_with_flat_names(self):
    a = dense_metrics.SegmentationMetrics.from_batch(
        np.array([[0, 1, 1]]), np.array([[0, 1, 0]]), np.ones((1, 3)), 2)
    b = dense_metrics.SegmentationMetrics.from_batch(
        np.array([[1, 1]]), np.array([[1, 1]]), np.ones((1, 2)), 2)
    loss = base_metrics.WeightedScalarCluMetric.create(
        np.float32(2.0), np.float32(3.0)).merge(
            base_metrics.WeightedScalarCluMetric.create(
                np.float32(4.0), np.float32(1.0)))
    entries = dense_program.pooled_entries(
        {'seg': a.merge(b), 'total_loss': loss})
    self.assertEqual(set(entries), {'miou', 'pixel_accuracy',
                                    'mean_accuracy', 'iou_0', 'iou_1',
                                    'total_loss'})
    # paxml's weighted mean of one (value, 1) entry is the pooled value.
    self.assertAlmostEqual(metric_utils.as_float(entries['pixel_accuracy']),
                           4 / 5, places=6)
    self.assertAlmostEqual(metric_utils.as_float(entries['miou']),
                           (1 / 2 + 3 / 4) / 2, places=6)
    self.assertAlmostEqual(metric_utils.as_float(entries['total_loss']),
                           (2 * 3 + 4) / 4, places=6)

  def test_name_collision(self):
    seg = dense_metrics.SegmentationMetrics.from_batch(
        np.array([[0]]), np.array([[0]]), np.ones((1, 1)), 1)
    with self.assertRaisesRegex(ValueError, "Two CLU metrics report 'miou'"):
      dense_program.pooled_entries({'a': seg, 'b': seg})


if __name__ == '__main__':
  absltest.main()
