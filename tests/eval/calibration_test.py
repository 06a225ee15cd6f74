# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""ECE on hand-computed toy cases; reliability diagram."""

import os
import tempfile

from absl.testing import absltest
import numpy as np

from vit22b_pax.eval import calibration


class EceTest(absltest.TestCase):

  def test_multiclass_toy(self):
    probs = np.array([[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.2, 0.6, 0.2],
                      [0.4, 0.35, 0.25]])
    labels = np.array([0, 1, 1, 2])
    r = calibration.expected_calibration_error(probs, labels, num_bins=5)
    # bins [.8,1]: acc .5 conf .85; [.6,.8): 1 vs .6; [.4,.6): 0 vs .4.
    self.assertAlmostEqual(r['ece'], 0.5 * 0.35 + 0.25 * 0.4 + 0.25 * 0.4)
    self.assertAlmostEqual(r['mce'], 0.4)
    self.assertEqual(r['count'], [0, 0, 1, 1, 2])
    self.assertAlmostEqual(r['accuracy'], 0.5)
    self.assertTrue(np.isnan(r['bin_accuracy'][0]))

  def test_binary_scores_and_perfect(self):
    r = calibration.expected_calibration_error([0.9, 0.2], [1, 1], 10)
    self.assertAlmostEqual(r['ece'], 0.5 * 0.1 + 0.5 * 0.8)
    # 1.0-confident and right: calibrated.
    r = calibration.expected_calibration_error(np.eye(3), [0, 1, 2], 4)
    self.assertEqual(r['ece'], 0.0)
    self.assertEqual(r['count'], [0, 0, 0, 3])  # 1.0 falls in the last bin

  def test_bad_input(self):
    with self.assertRaisesRegex(ValueError, 'summing to 1'):
      calibration.expected_calibration_error([[0.5, 0.6]], [0])
    with self.assertRaisesRegex(ValueError, 'do not match'):
      calibration.expected_calibration_error([[0.5, 0.5]], [0, 1])
    with self.assertRaisesRegex(ValueError, 'num_bins'):
      calibration.expected_calibration_error([0.5], [1], num_bins=0)

  def test_reliability_plot(self):
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4), 200)
    r = calibration.expected_calibration_error(p, rng.integers(0, 4, 200), 10)
    path = os.path.join(tempfile.mkdtemp(), 'rel.png')
    calibration.plot_reliability_diagram(r, path, 'toy')
    with open(path, 'rb') as f:
      self.assertEqual(f.read(4), b'\x89PNG')


if __name__ == '__main__':
  absltest.main()
