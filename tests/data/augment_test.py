# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""Tests for the numpy batch augmentations."""

from absl.testing import absltest
import numpy as np
from praxis import test_utils

from vit22b_pax.data import augment


def _bilinear_reference(img, box, out):
  """Loop-based bilinear crop of one [H, W, C] image (pixel centres)."""
  h, w, _ = img.shape
  top, left, bh, bw = box
  res = np.zeros((out, out, img.shape[2]), np.float64)
  for i in range(out):
    y = min(max(top + (i + 0.5) * bh / out - 0.5, 0), h - 1)
    for j in range(out):
      x = min(max(left + (j + 0.5) * bw / out - 0.5, 0), w - 1)
      y0, x0 = int(np.floor(y)), int(np.floor(x))
      y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
      fy, fx = y - y0, x - x0
      res[i, j] = ((1 - fy) * ((1 - fx) * img[y0, x0] + fx * img[y0, x1])
                   + fy * ((1 - fx) * img[y1, x0] + fx * img[y1, x1]))
  return res


class AugmentTest(test_utils.TestCase):

  def setUp(self):
    super().setUp()
    self.images = np.random.default_rng(0).random((3, 10, 12, 3),
                                                  dtype=np.float32)

  def test_full_box_is_identity(self):
    imgs = self.images[:, :, :10]
    boxes = np.tile([[0, 0, 10, 10]], (3, 1))
    self.assertAllClose(augment.crop_and_resize(imgs, boxes, 10), imgs)
    self.assertAllClose(augment.resize(imgs, 10), imgs)

  def test_crop_and_resize_matches_reference(self):
    boxes = np.array([[1.5, 2.0, 6.0, 7.5], [0, 0, 10, 12], [3, 4, 2, 3]],
                     np.float32)
    out = augment.crop_and_resize(self.images, boxes, 7)
    self.assertEqual(out.shape, (3, 7, 7, 3))
    for b in range(3):
      ref = _bilinear_reference(self.images[b].astype(np.float64), boxes[b], 7)
      self.assertAllClose(out[b], ref.astype(np.float32), atol=1e-5)

  def test_inception_crop(self):
    out = augment.inception_crop(self.images, np.random.default_rng(1), 8)
    self.assertEqual(out.shape, (3, 8, 8, 3))
    self.assertEqual(out.dtype, np.float32)
    again = augment.inception_crop(self.images, np.random.default_rng(1), 8)
    self.assertArraysEqual(out, again)
    boxes = augment.sample_inception_boxes(
        np.random.default_rng(2), 500, 10, 12, (0.2, 0.6), (0.5, 2.0))
    top, left, h, w = boxes.T
    self.assertTrue(np.all(top >= 0) and np.all(left >= 0))
    self.assertTrue(np.all(top + h <= 10 + 1e-4))
    self.assertTrue(np.all(left + w <= 12 + 1e-4))
    area = h * w / 120
    self.assertTrue(np.all((area >= 0.2 - 1e-4) & (area <= 0.6 + 1e-4)))
    self.assertTrue(np.all((w / h >= 0.5 - 1e-4) & (w / h <= 2 + 1e-4)))
    with self.assertRaisesRegex(ValueError, 'area_range'):
      augment.sample_inception_boxes(np.random.default_rng(0), 1, 4, 4,
                                     (0.0, 1.0))

  def test_inception_crop_fallback_is_centred(self):
    # Area 1 with aspect 2 never fits in a square: central full crop.
    boxes = augment.sample_inception_boxes(
        np.random.default_rng(0), 4, 8, 8, (1.0, 1.0), (2.0, 2.0))
    self.assertAllClose(boxes, np.tile(np.float32([[2, 0, 4, 8]]), (4, 1)))

  def test_flip(self):
    flipped = augment.flip_lr(self.images)
    self.assertArraysEqual(flipped[1], np.fliplr(self.images[1]))
    self.assertArraysEqual(augment.flip_lr(flipped), self.images)
    rng = np.random.default_rng(0)
    self.assertArraysEqual(augment.random_flip_lr(self.images, rng, 0.0),
                           self.images)
    self.assertArraysEqual(augment.random_flip_lr(self.images, rng, 1.0),
                           flipped)

  def test_mixup(self):
    labels = np.eye(3, dtype=np.float32)
    imgs, probs = augment.mixup(self.images, labels,
                                np.random.default_rng(0), 0.4)
    self.assertAllClose(probs.sum(-1), np.ones(3, np.float32))
    lam = probs[0, 0]  # Row 0 mixes itself (lam) with row 2 (1 - lam).
    self.assertAllClose(probs[0], np.float32([lam, 0, 1 - lam]))
    self.assertAllClose(imgs[0], lam * self.images[0]
                        + (1 - lam) * self.images[2])
    self.assertAllClose(imgs[1], lam * self.images[1]
                        + (1 - lam) * self.images[0])
    with self.assertRaisesRegex(ValueError, 'alpha=0'):
      augment.mixup(self.images, labels, np.random.default_rng(0), 0)

  def test_bad_rank(self):
    with self.assertRaisesRegex(ValueError, r'\[B, H, W, C\]'):
      augment.flip_lr(self.images[0])


if __name__ == '__main__':
  absltest.main()
