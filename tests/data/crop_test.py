# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The one resize-small-then-centre-crop op against a numpy reference."""

import fractions

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
from PIL import Image
import tensorflow as tf

from vit22b_pax.data import crop


def _ref_geometry(h, w, crop_h, crop_w, crop_fraction):
  """Sizes and offsets of big_vision's resize_small | central_crop, with
  exact fractions and halves rounded up."""
  up = lambda x: int(np.floor(x + fractions.Fraction(1, 2)))
  frac = fractions.Fraction(crop_fraction).limit_denominator(10**6)
  r_h, r_w = up(crop_h / frac), up(crop_w / frac)
  scale = max(fractions.Fraction(r_h, h), fractions.Fraction(r_w, w))
  nh, nw = up(h * scale), up(w * scale)
  return nh, nw, (nh - crop_h) // 2, (nw - crop_w) // 2


def _ref_bilinear(img, nh, nw):
  """tf.image.resize bilinear (half-pixel centres, no antialias), numpy."""
  h, w = img.shape[:2]

  def axis(n_out, n_in):
    src = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    src = np.clip(src, 0, n_in - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    return lo, hi, src - lo

  y0, y1, fy = axis(nh, h)
  x0, x1, fx = axis(nw, w)
  fy, fx = fy[:, None, None], fx[None, :, None]
  top = img[y0][:, x0] * (1 - fx) + img[y0][:, x1] * fx
  bottom = img[y1][:, x0] * (1 - fx) + img[y1][:, x1] * fx
  return top * (1 - fy) + bottom * fy


def _ref_nearest(img, nh, nw):
  h, w = img.shape[:2]
  ys = np.minimum(((np.arange(nh) + 0.5) * h / nh).astype(int), h - 1)
  xs = np.minimum(((np.arange(nw) + 0.5) * w / nw).astype(int), w - 1)
  return img[ys][:, xs]


def _ref_op(img, crop_hw, crop_fraction, nearest=False):
  nh, nw, top, left = _ref_geometry(img.shape[0], img.shape[1], *crop_hw,
                                    crop_fraction)
  resized = (_ref_nearest if nearest else _ref_bilinear)(img, nh, nw)
  return resized[top:top + crop_hw[0], left:left + crop_hw[1]]


class CropTest(parameterized.TestCase):

  def test_cover_shape_rounds_half_up_exactly(self):
    for h in range(1, 30):
      for w in range(1, 30):
        for r_h, r_w in ((7, 7), (8, 12), (13, 5)):
          want = _ref_geometry(h, w, r_h, r_w, 1.0)[:2]
          self.assertEqual(crop.cover_shape(h, w, r_h, r_w), want,
                           msg=f'{h}x{w} -> {r_h}x{r_w}')
          got = crop.cover_shape(tf.constant(h, tf.int64),
                                 tf.constant(w, tf.int64), r_h, r_w)
          self.assertEqual(tuple(int(v) for v in got), want)
    # An exact half (3 * 3 / 2 = 4.5) rounds up, where float32 tf.round
    # (big_vision) would give 4.
    self.assertEqual(crop.cover_shape(2, 3, 3, 3), (3, 5))
    # numpy integers take the Python branch too.
    self.assertEqual(crop.cover_shape(np.int64(2), np.int64(3), 3, 3), (3, 5))

  def test_big_vision_eval_crop_numbers(self):
    # A 375 x 500 photo: resize_small(256) -> 256 x 341 (341.33 rounded),
    # central_crop(224) at ((256 - 224) // 2, (341 - 224) // 2).
    self.assertEqual(crop.resize_target((224, 224), 0.875), (256, 256))
    self.assertEqual(crop.cover_shape(375, 500, 256, 256), (256, 341))
    self.assertEqual(crop.central_offsets(256, 341, 224, 224), (16, 58))

  @parameterized.parameters(
      ((14, 21), (8, 8), 1.0), ((21, 14), (8, 8), 0.875),
      ((11, 17), (6, 6), 0.5), ((9, 9), (12, 12), 1.0),
      ((10, 14), (6, 9), 1.0), ((7, 25), (5, 5), 0.8))
  def test_tf_op_matches_numpy(self, hw, crop_hw, crop_fraction):
    rng = np.random.default_rng(hw[0] * 100 + hw[1])
    img = rng.random(hw + (3,)).astype(np.float32)
    nh, nw, _, _ = _ref_geometry(*hw, *crop_hw, crop_fraction)
    self.assertGreaterEqual(min(nh / hw[0], nw / hw[1]),
                            crop.ANTIALIAS_BELOW)  # Plain bilinear.
    got = crop.tf_resize_small_crop(img, crop_hw, crop_fraction).numpy()
    np.testing.assert_allclose(got, _ref_op(img, crop_hw, crop_fraction),
                               atol=1e-5)
    clip = np.stack([img, img[::-1]])  # [T, h, w, 3]: every frame alike.
    got = crop.tf_resize_small_crop(clip, crop_hw, crop_fraction).numpy()
    np.testing.assert_allclose(got[1], _ref_op(img[::-1], crop_hw,
                                               crop_fraction), atol=1e-5)
    labels = rng.integers(0, 50, hw + (1,)).astype(np.int32)
    got = crop.tf_resize_small_crop(labels, crop_hw, crop_fraction,
                                    'nearest').numpy()
    np.testing.assert_array_equal(
        got, _ref_op(labels, crop_hw, crop_fraction, nearest=True))

  @parameterized.parameters(((20, 30), (8, 8), 1.0), ((11, 17), (6, 6), 0.5),
                            ((10, 14), (6, 9), 1.0), ((9, 9), (12, 12), 1.0))
  def test_pil_op_has_the_same_geometry(self, hw, crop_hw, crop_fraction):
    # Each pixel holds its own row * 1000 + column: the nearest-neighbour
    # output says which source pixel every output pixel came from.
    rows, cols = np.mgrid[:hw[0], :hw[1]]
    coords = (rows * 1000 + cols).astype(np.int32)
    got = crop.pil_resize_small_crop(Image.fromarray(coords), crop_hw,
                                     crop_fraction, Image.NEAREST)
    want = _ref_op(coords[..., None], crop_hw, crop_fraction, nearest=True)
    np.testing.assert_array_equal(np.asarray(got), want[..., 0])

  def test_errors(self):
    with self.assertRaisesRegex(ValueError, r'crop_fraction=1.5 must be in'):
      crop.resize_target((8, 8), 1.5)
    with self.assertRaisesRegex(ValueError, r'crop size \(0, 8\) must be'):
      crop.resize_target((0, 8), 1.0)
    with self.assertRaisesRegex(ValueError, "method='cubic'"):
      crop.tf_resize_small_crop(np.zeros((4, 4, 3)), (2, 2), method='cubic')


if __name__ == '__main__':
  absltest.main()
