# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Position-embedding resampling against numpy / PIL references."""

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tests.weights import reference as ref
from vit22b_pax.core import posemb

GRIDS = (((4, 4), (6, 6)), ((4, 4), (7, 7)), ((7, 7), (12, 12)),
         ((14, 14), (24, 24)), ((12, 12), (7, 7)), ((5, 3), (8, 9)),
         ((3, 3), (3, 5)))


class PosembTest(parameterized.TestCase):

  @parameterized.parameters(*GRIDS)
  def test_zoom_is_corner_aligned_linear(self, old, new):
    grid = np.random.default_rng(0).standard_normal(old + (5,))
    np.testing.assert_allclose(posemb.zoom(grid, new),
                               ref.linear_corner_aligned(grid, *new),
                               rtol=1e-5, atol=1e-6)

  @parameterized.parameters(*GRIDS)
  def test_bicubic_is_pils_antialiased_bicubic(self, old, new):
    grid = np.random.default_rng(1).standard_normal(old + (5,))
    np.testing.assert_allclose(posemb.bicubic(grid, new),
                               ref.pil_bicubic(grid, *new),
                               rtol=1e-5, atol=1e-6)

  def test_same_grid_is_unchanged_and_table_roundtrip(self):
    table = np.random.default_rng(2).standard_normal((1, 12, 4))
    for method in posemb.METHODS:
      np.testing.assert_allclose(
          posemb.resample_table(table, (3, 4), (3, 4), method), table,
          rtol=1e-6)
    out = posemb.resample_table(table, (3, 4), (6, 8), 'zoom')
    self.assertEqual(out.shape, (1, 48, 4))
    # Corners are kept by the corner-aligned resampling.
    np.testing.assert_allclose(out[0, [0, 7, 40, 47]], table[0, [0, 3, 8, 11]],
                               rtol=1e-5)

  def test_errors(self):
    with self.assertRaisesRegex(ValueError, 'not a .1, 3\\*3, D. table'):
      posemb.resample_table(np.zeros((1, 10, 4)), (3, 3), (4, 4), 'zoom')
    with self.assertRaisesRegex(ValueError, "Unknown .* 'nearest'"):
      posemb.resample(np.zeros((3, 3, 4)), (4, 4), 'nearest')
    with self.assertRaisesRegex(ValueError, 'must be positive'):
      posemb.zoom(np.zeros((3, 3, 4)), (0, 4))


if __name__ == '__main__':
  absltest.main()
