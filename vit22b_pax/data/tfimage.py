# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""TensorFlow image ops of the tf.data inputs: decode, crop, resize, flip.

Every op is a pure function of its inputs and an explicit stateless seed
([2] int64), so a pipeline seeded by (seed, example position) is
deterministic whatever the thread count or the order in which tf.data runs
the map calls.

* `decode`: JPEG (8 bit), PNG (8 or 16 bit: 16-bit samples / 65535, 8-bit
  / 255 exactly), GIF / BMP (first frame) -> [H, W, 3] float32 in [0, 1];
  grey is replicated, alpha dropped, palettes expanded (as PIL's
  convert('RGB') in `folders.to_float_rgb`).
* `decode_inception_crop`: the box is sampled on the full-resolution image
  with `tf.image.stateless_sample_distorted_bounding_box` (area 5-100%,
  aspect 3/4-4/3, 100 attempts, whole image as fallback: big_vision's
  `decode_jpeg_and_inception_crop`, paxml's `resnet_preprocessing`), then
  resized to size x size.
* `decode_central_crop`: decode, then the one evaluation crop of the
  package, `crop.tf_resize_small_crop`: big_vision's resize_small(size /
  crop_fraction) | central_crop(size) (0.875: 256 -> 224), with the
  rounding rule documented in `crop.py`.
* The Inception crop decodes JPEGs with `decode_and_crop_jpeg`, which
  decodes only the rows and columns of the box.
* Resizing is bilinear, as big_vision's `resize_small` / `inception_crop`
  (no antialiasing); an image shrunk by more than 2x (scale <
  `ANTIALIAS_BELOW`) is resized with antialiasing instead, so large photos
  do not alias. (PIL, in the NumPy path, always antialiases; the two paths
  differ by a few grey levels.)
* `safe_map`: runs a decode function on each element in its own tiny dataset
  with `ignore_errors`, emitting a blank image with ok=False for a missing or
  corrupt file instead of stopping the pipeline; order is preserved.
"""

from __future__ import annotations

from typing import Callable

import tensorflow as tf

from vit22b_pax.data import crop

AREA_RANGE = (0.05, 1.0)
# Antialiased resizing costs ~2.5x the whole decode + resize of a 500 x 375
# JPEG; it is used only for stronger shrinking, where plain bilinear aliases.
ANTIALIAS_BELOW = crop.ANTIALIAS_BELOW
ASPECT_RANGE = (3 / 4, 4 / 3)
_PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def decode(raw: tf.Tensor) -> tf.Tensor:
  """Encoded image bytes -> [H, W, 3] float32 in [0, 1]."""
  def jpeg():
    img = tf.io.decode_jpeg(raw, channels=3, dct_method='INTEGER_ACCURATE')
    return tf.cast(img, tf.float32) / 255.0

  def png():
    img = tf.io.decode_png(raw, channels=3, dtype=tf.uint16)
    return tf.cast(img, tf.float32) / 65535.0

  def other():
    img = tf.io.decode_image(raw, channels=3, expand_animations=False)
    return tf.cast(img, tf.float32) / 255.0

  is_png = tf.equal(tf.strings.substr(raw, 0, len(_PNG_MAGIC)), _PNG_MAGIC)
  img = tf.case([(tf.io.is_jpeg(raw), jpeg), (is_png, png)], default=other)
  return tf.ensure_shape(img, [None, None, 3])


def as_float(img: tf.Tensor) -> tf.Tensor:
  """A decoded [H, W, C] uint8 / uint16 / float image -> [H, W, 3] float32
  in [0, 1] (grey replicated, alpha dropped)."""
  if img.dtype == tf.uint8:
    img = tf.cast(img, tf.float32) / 255.0
  elif img.dtype == tf.uint16:
    img = tf.cast(img, tf.float32) / 65535.0
  else:
    img = tf.cast(img, tf.float32)
  if img.shape.rank == 2:
    img = img[..., None]
  channels = img.shape[-1]
  if channels in (1, 2):
    img = tf.image.grayscale_to_rgb(img[..., :1])
  elif channels == 4:
    img = img[..., :3]
  elif channels != 3:
    raise ValueError(f'image with {channels} channels; expected 1-4.')
  return img


def _resize(img: tf.Tensor, height, width) -> tf.Tensor:
  """Bilinear; antialiased only when shrinking by more than ANTIALIAS_BELOW."""
  return crop.tf_resize_bilinear(img, tf.stack([height, width]))


def decode_window(raw: tf.Tensor, window_fn) -> tf.Tensor:
  """Decodes the window of an image: [h, w, 3] float32 in [0, 1].

  Args:
    raw: encoded bytes, or an already decoded image (see `as_float`).
    window_fn: shape [2] (height, width) int32 -> (begin [2], size [2]) of
      the window in pixels of the full-resolution image.

  Returns:
    The window; JPEGs decode only its rows and columns
    (`decode_and_crop_jpeg`).
  """
  def cut(img):
    begin, box = window_fn(tf.shape(img)[:2])
    return tf.slice(img, tf.concat([begin, [0]], 0), tf.concat([box, [3]], 0))

  if raw.dtype != tf.string:
    return cut(as_float(raw))

  def jpeg():
    begin, box = window_fn(tf.image.extract_jpeg_shape(raw)[:2])
    img = tf.image.decode_and_crop_jpeg(raw, tf.concat([begin, box], 0),
                                        channels=3,
                                        dct_method='INTEGER_ACCURATE')
    return tf.cast(img, tf.float32) / 255.0

  img = tf.cond(tf.io.is_jpeg(raw), jpeg, lambda: cut(decode(raw)))
  return tf.ensure_shape(img, [None, None, 3])


def inception_window(seed: tf.Tensor):
  """window_fn of an Inception crop (see the module docstring)."""
  def window(shape_hw):
    begin, size, _ = tf.image.stateless_sample_distorted_bounding_box(
        tf.concat([tf.cast(shape_hw, tf.int32), [3]], 0),
        bounding_boxes=tf.zeros([1, 0, 4], tf.float32), seed=seed,
        min_object_covered=0.0, aspect_ratio_range=ASPECT_RANGE,
        area_range=AREA_RANGE, max_attempts=100,
        use_image_if_no_bounding_boxes=True)
    return begin[:2], size[:2]
  return window


def decode_inception_crop(raw: tf.Tensor, size: int,
                          seed: tf.Tensor) -> tf.Tensor:
  """Decodes and Inception-crops to [size, size, 3] float32 in [0, 1]."""
  crop = decode_window(raw, inception_window(seed))
  return tf.ensure_shape(_resize(crop, size, size), [size, size, 3])


def decode_central_crop(raw: tf.Tensor, size: int,
                        crop_fraction: float) -> tf.Tensor:
  """Decodes (bytes, or a decoded image) and applies the evaluation crop
  `crop.tf_resize_small_crop`: resize_small(size / crop_fraction) |
  central_crop(size), [size, size, 3] float32 in [0, 1]."""
  img = decode(raw) if raw.dtype == tf.string else as_float(raw)
  return crop.tf_resize_small_crop(img, (size, size), crop_fraction)


def element_seed(base: tf.Tensor, position: tf.Tensor, salt: int) -> tf.Tensor:
  """[2] int64 stateless seed of one example and one op (salt)."""
  seed = tf.stack([tf.cast(base, tf.int64), tf.cast(position, tf.int64)])
  return tf.random.experimental.stateless_fold_in(seed, salt)


def preprocess(raw: tf.Tensor, size: int, *, training: bool,
               inception_crop: bool, flip: bool, crop_fraction: float,
               seed_base: tf.Tensor, position: tf.Tensor) -> tf.Tensor:
  """Encoded bytes (or a decoded image) -> [size, size, 3] float32 in [0, 1],
  augmented when training."""
  if training and inception_crop:
    img = decode_inception_crop(raw, size,
                                element_seed(seed_base, position, 1))
  else:
    img = decode_central_crop(raw, size, crop_fraction)
  if training and flip:
    img = tf.image.stateless_random_flip_left_right(
        img, element_seed(seed_base, position, 2))
  return tf.clip_by_value(img, 0.0, 1.0)


def safe_map(ds: tf.data.Dataset, fn: Callable[..., tf.Tensor], size: int,
             num_parallel_calls: int) -> tf.data.Dataset:
  """Maps fn over (raw, *rest) elements, keeping order; unreadable -> blank.

  Each element becomes (fn(raw, *rest), ok, *rest): ok is False and the
  image is all zeros when fn raised (missing file, corrupt bytes).

  Args:
    ds: elements (raw bytes or path, *rest) of tensors.
    fn: (raw, *rest) -> [size, size, 3] float32.
    size: image size of the blank replacement.
    num_parallel_calls: parallel decodes (tf.data.AUTOTUNE allowed).

  Returns:
    Dataset of (image, ok, *rest).
  """
  def one(*element):
    good = tf.data.Dataset.from_tensors(element).map(
        lambda *e: (fn(*e), tf.constant(True)) + tuple(e[1:])
    ).ignore_errors()
    blank = tf.data.Dataset.from_tensors(
        (tf.zeros([size, size, 3], tf.float32), tf.constant(False))
        + tuple(element[1:]))
    return good.concatenate(blank).take(1)

  cycle = 8 if num_parallel_calls == tf.data.AUTOTUNE else max(
      1, num_parallel_calls)
  return ds.interleave(one, cycle_length=cycle, block_length=1,
                       num_parallel_calls=num_parallel_calls,
                       deterministic=True)
