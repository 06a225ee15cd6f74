# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Colour maps and the grid drawing of the dense pictures tool (the
checkpoint round trip runs in tests/experiments/dense_test.py)."""

import os
import tempfile

from absl.testing import absltest
import numpy as np
from PIL import Image
from praxis import py_utils

from vit22b_pax.tools import dense_pictures as dp


class DensePicturesTest(absltest.TestCase):

  def test_colorize_labels(self):
    rgb = dp.colorize_labels(np.array([[0, 1, -1, 21]]))
    np.testing.assert_allclose(rgb[0, 0], dp.PALETTE[0])
    np.testing.assert_allclose(rgb[0, 1], dp.PALETTE[1])
    np.testing.assert_allclose(rgb[0, 2], [0, 0, 0])  # Ignored.
    np.testing.assert_allclose(rgb[0, 3], dp.PALETTE[21 % len(dp.PALETTE)])
    self.assertEqual(len(np.unique(dp.PALETTE, axis=0)), len(dp.PALETTE))

  def test_depth_heat(self):
    depth = np.array([[1.0, 2.0, 3.0]])
    heat = dp.depth_heat(depth, np.array([[1, 1, 0]]), 1.0, 3.0)
    self.assertEqual(heat.shape, (1, 3, 3))
    np.testing.assert_allclose(heat[0, 2], [0, 0, 0])  # Invalid.
    # magma_r: near (small depth) is bright.
    self.assertGreater(heat[0, 0].sum(), dp.depth_heat(
        depth, None, 1.0, 3.0)[0, 2].sum())

  def test_draw_grid_writes_png(self):
    rng = np.random.default_rng(0)
    batch = py_utils.NestedMap(
        image=rng.uniform(-1, 1, (2, 16, 24, 3)).astype(np.float32),
        label=rng.integers(-1, 3, (2, 16, 24)).astype(np.int32))
    pred = py_utils.NestedMap(
        logits=rng.normal(size=(2, 16, 24, 3)).astype(np.float32))
    pred.label = pred.logits.argmax(-1)
    with tempfile.TemporaryDirectory() as tmp:
      out = os.path.join(tmp, 'sub', 'grid.png')
      dp.draw_grid('segmentation', batch, pred, out, ('bg', 'a', 'b'))
      with Image.open(out) as img:
        self.assertEqual(img.format, 'PNG')
        self.assertGreater(img.size[0], img.size[1] / 2)


if __name__ == '__main__':
  absltest.main()
