# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""The one "resize the shorter side, then centre-crop" op of every input.

big_vision's evaluation crop `resize_small(R) | central_crop(S)`, with one
rounding rule (`cover_shape`, `central_offsets`) used everywhere:

1. Resize target: the crop (S_h, S_w) divided by `crop_fraction`, rounded
   half up: (R_h, R_w) = (round(S_h / f), round(S_w / f)) (224 / 0.875 ->
   256; f = 1 keeps (S_h, S_w)).
2. Resize (h, w) -> (nh, nw), keeping the aspect, to the smallest size that
   covers (R_h, R_w): the binding side gets its target exactly, the other
   side is w * R_h / h (or h * R_w / w) rounded half up, computed exactly in
   integers: nw = (2 w R_h + h) // (2 h). For a square target this is
   big_vision's `resize_small(R)`: the smaller side becomes R and the other
   is rounded (big_vision rounds in float32, half to even; the two differ
   only on exact halves).
3. Crop (S_h, S_w) at offset ((nh - S_h) // 2, (nw - S_w) // 2): big_vision's
   `central_crop`.

The geometry is the same integer arithmetic on Python ints and on TensorFlow
int64 tensors, so the two resamplers agree on sizes and offsets:

* `tf_resize_small_crop`: TensorFlow (tf.data inputs, `tools/predict.py`);
  bilinear without antialiasing (as big_vision), antialiased when shrinking
  by more than 2x (`ANTIALIAS_BELOW`); 'nearest' for label and depth maps.
* `pil_resize_small_crop`: PIL (the PIL/NumPy folder inputs); PIL's
  BILINEAR always antialiases when shrinking, NEAREST for maps.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from PIL import Image

# tf bilinear resizing antialiases when the scale is below this.
ANTIALIAS_BELOW = 0.5


def _round_half_up(x: float) -> int:
  return int(x + 0.5) if x >= 0 else -int(-x + 0.5)


def resize_target(crop_hw: Sequence[int], crop_fraction: float
                  ) -> tuple[int, int]:
  """(R_h, R_w) = crop / crop_fraction, rounded half up; checks both."""
  crop_h, crop_w = (int(v) for v in crop_hw)
  if crop_h <= 0 or crop_w <= 0:
    raise ValueError(f'crop size {tuple(crop_hw)} must be positive.')
  if not 0.0 < crop_fraction <= 1.0:
    raise ValueError(f'crop_fraction={crop_fraction} must be in (0, 1].')
  return (max(crop_h, _round_half_up(crop_h / crop_fraction)),
          max(crop_w, _round_half_up(crop_w / crop_fraction)))


def _select(cond, a, b):
  if isinstance(cond, (bool, np.bool_)):
    return a if cond else b
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return tf.where(cond, a, b)


def cover_shape(h, w, out_h, out_w):
  """(nh, nw): (h, w) resized, aspect kept, to just cover (out_h, out_w).

  The binding side is set exactly; the other is rounded half up, in exact
  integer arithmetic. Works on Python ints and on int64 tensors alike.
  """
  height_binds = out_h * w >= out_w * h  # out_h / h >= out_w / w
  nh = _select(height_binds, out_h, (2 * h * out_w + w) // (2 * w))
  nw = _select(height_binds, (2 * w * out_h + h) // (2 * h), out_w)
  return nh, nw


def central_offsets(nh, nw, crop_h, crop_w):
  """(top, left) of the centre crop: ((nh - crop_h) // 2, (nw - crop_w) //
  2)."""
  return (nh - crop_h) // 2, (nw - crop_w) // 2


def tf_resize_bilinear(image: Any, size: Any) -> Any:
  """Bilinear resize of [..., h, w, C] to size (height, width), float32;
  antialiased only when shrinking below ANTIALIAS_BELOW (as big_vision's
  resize_small otherwise: plain bilinear)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  image = tf.cast(image, tf.float32)
  size = tf.cast(size, tf.int32)
  hw = tf.cast(tf.shape(image)[-3:-1], tf.float32)
  scale = tf.reduce_min(tf.cast(size, tf.float32) / hw)
  return tf.cond(
      scale < ANTIALIAS_BELOW,
      lambda: tf.image.resize(image, size, 'bilinear', antialias=True),
      lambda: tf.image.resize(image, size, 'bilinear', antialias=False))


def tf_resize_small_crop(image: Any, crop_hw: Sequence[int],
                         crop_fraction: float = 1.0,
                         method: str = 'bilinear') -> Any:
  """The op in TensorFlow on [..., h, w, C] (an image or a clip of frames).

  Args:
    image: [h, w, C] or [T, h, w, C] tensor (float; integer maps with
      method='nearest').
    crop_hw: output (S_h, S_w).
    crop_fraction: the crop's share of the resized image (0.875: 256 ->
      224).
    method: 'bilinear' (images) or 'nearest' (label / depth maps).

  Returns:
    [..., S_h, S_w, C] tensor (float32 for bilinear, the input dtype for
    nearest).
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  crop_h, crop_w = (int(v) for v in crop_hw)
  r_h, r_w = resize_target(crop_hw, crop_fraction)
  if method not in ('bilinear', 'nearest'):
    raise ValueError(f"method={method!r} must be 'bilinear' or 'nearest'.")
  image = tf.convert_to_tensor(image)
  shape = tf.shape(image, out_type=tf.int64)
  h, w = shape[-3], shape[-2]
  nh, nw = cover_shape(h, w, tf.constant(r_h, tf.int64),
                       tf.constant(r_w, tf.int64))
  size = tf.cast(tf.stack([nh, nw]), tf.int32)
  if method == 'nearest':
    resized = tf.image.resize(image, size, method='nearest')
  else:
    resized = tf_resize_bilinear(image, size)
  top, left = central_offsets(nh, nw, crop_h, crop_w)
  begin = tf.cast(tf.stack([top, left]), tf.int32)
  lead = tf.zeros([tf.rank(image) - 3], tf.int32)
  out = tf.slice(resized, tf.concat([lead, begin, [0]], 0),
                 tf.concat([-tf.ones_like(lead), [crop_h, crop_w, -1]], 0))
  static = image.shape[:-3].as_list() + [crop_h, crop_w, image.shape[-1]]
  return tf.ensure_shape(out, static)


def pil_resize_small_crop(img: Image.Image, crop_hw: Sequence[int],
                          crop_fraction: float = 1.0,
                          resample: int = Image.BILINEAR) -> Image.Image:
  """The op in PIL: the same sizes and offsets as `tf_resize_small_crop`.

  Args:
    img: any PIL image (modes 'F' and 'I' for float / integer maps).
    crop_hw: output (S_h, S_w).
    crop_fraction: the crop's share of the resized image.
    resample: Image.BILINEAR (images) or Image.NEAREST (maps).

  Returns:
    The (S_w x S_h) PIL image.
  """
  crop_h, crop_w = (int(v) for v in crop_hw)
  r_h, r_w = resize_target(crop_hw, crop_fraction)
  w, h = img.size
  nh, nw = cover_shape(h, w, r_h, r_w)
  if (nw, nh) != (w, h):
    img = img.resize((nw, nh), resample)
  top, left = central_offsets(nh, nw, crop_h, crop_w)
  return img.crop((left, top, left + crop_w, top + crop_h))
