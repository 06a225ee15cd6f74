# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""Batch image augmentations in numpy with an explicit `np.random.Generator`.

All functions take images [B, H, W, C] (float) and return new arrays; the
caller owns the generator, so a pipeline seeded per (seed, host, step) is
reproducible. Used by the inputs only when `is_training`:

* `inception_crop`: random area/aspect crop resized back (Szegedy et al.
  2015), as big_vision's `inception_crop`.
* `random_flip_lr`: per-image horizontal flip with probability 1/2.
* `mixup`: one lambda ~ Beta(alpha, alpha) per batch, mixed with the batch
  rolled by one (big_vision `get_mixup`); applied once in the input, so any
  teacher and student see the same mixed images and targets.
"""

from __future__ import annotations

import numpy as np


def _check_images(images: np.ndarray) -> None:
  if images.ndim != 4:
    raise ValueError(f'images must be [B, H, W, C], got shape {images.shape}.')


def crop_and_resize(images: np.ndarray, boxes: np.ndarray,
                    out_size: int) -> np.ndarray:
  """Bilinearly resamples one box per image to [B, out, out, C].

  Output pixel i of a box (top, left, height, width) samples the source at
  top + (i + 0.5) * height / out - 0.5 (pixel centres; edges clamped), so
  the full box at out == H reproduces the image exactly.

  Args:
    images: [B, H, W, C].
    boxes: [B, 4] float (top, left, height, width) in pixels.
    out_size: output height = width.

  Returns:
    [B, out_size, out_size, C] float32.
  """
  _check_images(images)
  if out_size <= 0:
    raise ValueError(f'out_size={out_size} must be positive.')
  b, h, w, _ = images.shape
  boxes = np.asarray(boxes, np.float32).reshape(b, 4)
  centres = (np.arange(out_size, dtype=np.float32) + 0.5) / out_size
  ys = boxes[:, :1] + centres[None] * boxes[:, 2:3] - 0.5  # [B, out]
  xs = boxes[:, 1:2] + centres[None] * boxes[:, 3:4] - 0.5
  ys, xs = np.clip(ys, 0, h - 1), np.clip(xs, 0, w - 1)
  y0, x0 = np.floor(ys).astype(np.int64), np.floor(xs).astype(np.int64)
  y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
  wy = (ys - y0)[:, :, None, None]
  wx = (xs - x0)[:, None, :, None]
  out = np.empty((b, out_size, out_size, images.shape[3]), np.float32)
  for i in range(b):  # Separable: whole rows, then columns; per image.
    img = images[i].astype(np.float32, copy=False)
    tall = img[y0[i]] * (1 - wy[i]) + img[y1[i]] * wy[i]
    out[i] = tall[:, x0[i]] * (1 - wx[i]) + tall[:, x1[i]] * wx[i]
  return out


def resize(images: np.ndarray, out_size: int) -> np.ndarray:
  """Bilinear resize of whole images to [B, out_size, out_size, C]."""
  _check_images(images)
  b, h, w, _ = images.shape
  boxes = np.tile(np.array([[0, 0, h, w]], np.float32), (b, 1))
  return crop_and_resize(images, boxes, out_size)


def sample_inception_boxes(
    rng: np.random.Generator, batch: int, height: int, width: int,
    area_range: tuple[float, float] = (0.05, 1.0),
    aspect_range: tuple[float, float] = (3 / 4, 4 / 3),
    attempts: int = 10) -> np.ndarray:
  """Random crop boxes [B, 4] (top, left, height, width) in pixels.

  Area fraction ~ U(area_range), aspect (w / h) log-uniform in aspect_range;
  a box that does not fit after `attempts` tries falls back to the largest
  centred crop within aspect_range (as tf.image.sample_distorted_bounding_box).
  """
  lo, hi = area_range
  if not 0 < lo <= hi <= 1:
    raise ValueError(f'area_range={area_range} must satisfy 0 < lo <= hi <= 1.')
  alo, ahi = aspect_range
  if not 0 < alo <= ahi:
    raise ValueError(f'aspect_range={aspect_range} must satisfy 0 < lo <= hi.')
  area = rng.uniform(lo, hi, (batch, attempts)) * height * width
  aspect = np.exp(rng.uniform(np.log(alo), np.log(ahi), (batch, attempts)))
  ch, cw = np.sqrt(area / aspect), np.sqrt(area * aspect)
  fits = (ch <= height) & (cw <= width)
  first = np.argmax(fits, axis=1)
  rows = np.arange(batch)
  ok = fits[rows, first]
  ratio = np.clip(width / height, alo, ahi)
  fh = np.minimum(height, width / ratio)
  ch = np.where(ok, ch[rows, first], fh)
  cw = np.where(ok, cw[rows, first], fh * ratio)
  top = rng.uniform(0, 1, batch) * (height - ch)
  left = rng.uniform(0, 1, batch) * (width - cw)
  top = np.where(ok, top, (height - ch) / 2)
  left = np.where(ok, left, (width - cw) / 2)
  return np.stack([top, left, ch, cw], axis=1).astype(np.float32)


def inception_crop(images: np.ndarray, rng: np.random.Generator,
                   out_size: int,
                   area_range: tuple[float, float] = (0.05, 1.0),
                   aspect_range: tuple[float, float] = (3 / 4, 4 / 3)
                   ) -> np.ndarray:
  """Inception-style random crop of each image, resized to out_size.

  Args:
    images: [B, H, W, C].
    rng: numpy generator.
    out_size: output height = width.
    area_range: crop area as a fraction of the image area.
    aspect_range: crop width / height range.

  Returns:
    [B, out_size, out_size, C] float32.
  """
  _check_images(images)
  b, h, w, _ = images.shape
  boxes = sample_inception_boxes(rng, b, h, w, area_range, aspect_range)
  return crop_and_resize(images, boxes, out_size)


def flip_lr(images: np.ndarray) -> np.ndarray:
  """Mirrors every image left-right: [B, H, W, C] -> [B, H, W, C]."""
  _check_images(images)
  return images[:, :, ::-1, :]


def random_flip_lr(images: np.ndarray, rng: np.random.Generator,
                   prob: float = 0.5) -> np.ndarray:
  """Mirrors each image left-right with probability `prob`."""
  _check_images(images)
  if not 0.0 <= prob <= 1.0:
    raise ValueError(f'prob={prob!r} must be in [0, 1].')
  flip = rng.random(images.shape[0]) < prob
  out = np.array(images, copy=True)
  out[flip] = images[flip, :, ::-1, :]
  return out


def mixup(images: np.ndarray, label_probs: np.ndarray,
          rng: np.random.Generator, alpha: float
          ) -> tuple[np.ndarray, np.ndarray]:
  """Mixup (Zhang et al. 2018) with the batch rolled by one.

  lam ~ Beta(alpha, alpha) once per batch; x' = lam x + (1 - lam) roll(x),
  y' = lam y + (1 - lam) roll(y), so rows of y' still sum to 1.

  Args:
    images: [B, H, W, C].
    label_probs: [B, K] target distributions.
    rng: numpy generator.
    alpha: Beta concentration (> 0).

  Returns:
    (mixed images [B, H, W, C], mixed label_probs [B, K]), float32.
  """
  _check_images(images)
  if alpha <= 0:
    raise ValueError(f'mixup alpha={alpha!r} must be > 0.')
  if label_probs.shape[0] != images.shape[0]:
    raise ValueError(f'label_probs batch {label_probs.shape[0]} != images '
                     f'batch {images.shape[0]}.')
  lam = np.float32(rng.beta(alpha, alpha))
  mix = lambda x: (lam * x + (1 - lam) * np.roll(x, 1, axis=0)).astype(
      np.float32)
  return mix(images), mix(label_probs)
