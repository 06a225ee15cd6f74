# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""Real segmentation and depth data behind the keys of `dense_inputs`.

Folder layouts (images and maps paired by file stem; an optional
`split_file` lists the stems to use, one per line):

* `SegmentationFolderInput`: `image_dir/*.{jpg,jpeg,png}` and
  `mask_dir/<stem>.png`, single-channel or palette PNGs of class indices,
  plus `class_list`, a text file with one class name per line (line i =
  class i).
    ADE20k (ADEChallengeData2016): image_dir=images/training,
      mask_dir=annotations/training, the 150 names of objectInfo150 in a
      text file, reduce_zero_label=True (mask 0 = "other" -> ignored,
      v -> class v - 1).
    Pascal VOC / Context: image_dir=JPEGImages,
      mask_dir=SegmentationClass, split_file=ImageSets/Segmentation/
      train.txt, ignore_values=(255,) (object boundaries).
* `DepthFolderInput`: `image_dir/*` and `depth_dir/<stem>.png` (16-bit
  PNG, metres = value / depth_scale; NYU toolbox PNGs use 1000, KITTI 256)
  or `depth_dir/<stem>.npy` (float metres, read with allow_pickle=False).
* `DenseTfdsInput`: a prepared TFDS data set (never downloads), e.g.
  `scene_parse150` (image + annotation, 0 = other: reduce_zero_label=True)
  or `nyu_depth_v2` (image + float16 depth in metres), on the shared
  tf.data stream (`tfds_stream`).

Every example is resized so it covers (H, W) (image bilinear, maps nearest)
and centre-cropped with the package's one crop (`crop.py`: PIL for the
folders, TensorFlow for TFDS); metrics are computed at that resolution.

Bad data raises ValueError naming the file (or TFDS example) first: a mask
or depth map whose size differs from its image's (sizes are checked from the
file headers when the input is built), a mask value that is neither a class
of `class_list` nor in `ignore_values`, a colour (RGB) mask, a negative
depth. Depth holes are masked, not errors: 0, NaN and +-inf depths get
depth 0 and depth_valid 0, so they count in no loss and no metric.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Sequence

import numpy as np
from PIL import Image
from praxis import py_utils
import tensorflow as tf

from vit22b_pax.data import crop
from vit22b_pax.data import dense_inputs
from vit22b_pax.data import tfds_stream
from vit22b_pax.data import tfimage

NestedMap = py_utils.NestedMap
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png')
IGNORE = dense_inputs.IGNORE_LABEL


def read_class_list(path: str) -> tuple[str, ...]:
  """Class names, one per line (surrounding blank lines dropped)."""
  if not os.path.isfile(path):
    raise ValueError(f'Class list {path!r} does not exist; expected a text '
                     'file with one class name per line.')
  with open(path, encoding='utf-8') as f:
    names = [line.strip() for line in f.read().strip().splitlines()]
  if not names or any(not n for n in names):
    raise ValueError(f'Class list {path!r} must name one class per line, '
                     'without blank lines.')
  return tuple(names)


def cover_and_crop(array: np.ndarray, hw: Sequence[int],
                   resample: int) -> np.ndarray:
  """Resizes [h, w(, C)] to cover (H, W) keeping the aspect, centre crop
  (the package's one crop, `crop.pil_resize_small_crop`).

  Args:
    array: uint8 image [h, w, 3], or a float32 / int32 map [h, w].
    hw: output (H, W).
    resample: PIL filter (Image.BILINEAR for images, Image.NEAREST maps).
  """
  return np.asarray(crop.pil_resize_small_crop(Image.fromarray(array), hw,
                                               1.0, resample))


def map_labels(mask: np.ndarray, num_classes: int, reduce_zero_label: bool,
               ignore_values: Sequence[int], where: str) -> np.ndarray:
  """Mask values -> class ids in [0, K) or IGNORE; ValueError otherwise."""
  mask = np.asarray(mask)
  if mask.ndim == 3:
    if np.any(mask != mask[..., :1]):
      raise ValueError(f'{where}: colour-coded (RGB) mask; expected a '
                       'single-channel or palette PNG of class indices.')
    mask = mask[..., 0]
  mask = mask.astype(np.int64)
  ignore = np.isin(mask, list(ignore_values))
  labels = mask - 1 if reduce_zero_label else mask
  if reduce_zero_label:
    ignore |= mask == 0
  bad = ~ignore & ((labels < 0) | (labels >= num_classes))
  if bad.any():
    raise label_error(where, int(mask[bad][0]), num_classes,
                      reduce_zero_label, ignore_values)
  return np.where(ignore, IGNORE, labels).astype(np.int32)


def label_error(where: str, value: int, num_classes: int,
                reduce_zero_label: bool,
                ignore_values: Sequence[int]) -> ValueError:
  """The error of a mask value that is no class and not ignored."""
  return ValueError(
      f'{where}: mask value {value} is outside the {num_classes} classes of '
      f'the class list (values {int(reduce_zero_label)}..'
      f'{num_classes - 1 + int(reduce_zero_label)}) and not in '
      f'ignore_values={tuple(ignore_values)}.')


def clean_depth(depth: np.ndarray, scale: float, where: str) -> np.ndarray:
  """Raw depth -> metres, 0 where invalid (0, NaN, inf); negative: error."""
  depth = np.asarray(depth, np.float64)
  if np.any(depth < 0):
    raise ValueError(f'{where}: negative depth {float(depth[depth < 0][0])}; '
                     'expected metres (or PNG units) >= 0, 0 = invalid.')
  ok = np.isfinite(depth) & (depth > 0)
  return np.where(ok, depth / scale, 0.0).astype(np.float32)


def _stems(folder: str, extensions: Sequence[str]) -> dict[str, str]:
  if not os.path.isdir(folder):
    raise ValueError(f'Folder {folder!r} does not exist.')
  out = {}
  for name in sorted(os.listdir(folder)):
    stem, ext = os.path.splitext(name)
    if ext.lower() in extensions:
      out.setdefault(stem, os.path.join(folder, name))
  return out


def _image_size(path: str) -> tuple[int, int]:
  """(h, w) from the file header (PNG/JPEG) or .npy header."""
  if path.endswith('.npy'):
    try:
      array = np.load(path, mmap_mode='r', allow_pickle=False)
    except ValueError as e:
      raise ValueError(f'{path}: not a plain numeric .npy array (pickled '
                       f'objects are refused): {e}') from e
    return tuple(array.shape[:2])
  with Image.open(path) as img:
    return img.size[::-1]


def pair_files(image_dir: str, map_dir: str, map_extensions: Sequence[str],
               split_file: str = '') -> list[tuple[str, str]]:
  """(image, map) path pairs by stem; ValueError on a missing partner or a
  size mismatch (from headers)."""
  images = _stems(image_dir, IMAGE_EXTENSIONS)
  maps = _stems(map_dir, map_extensions)
  if split_file:
    if not os.path.isfile(split_file):
      raise ValueError(f'split_file {split_file!r} does not exist.')
    with open(split_file, encoding='utf-8') as f:
      stems = [s.strip() for s in f if s.strip()]
  else:
    stems = sorted(images)
  if not stems:
    raise ValueError(f'No images ({"/".join(IMAGE_EXTENSIONS)}) in '
                     f'{image_dir!r}.')
  pairs = []
  for stem in stems:
    if stem not in images:
      raise ValueError(f'No image for {stem!r} in {image_dir!r}.')
    if stem not in maps:
      raise ValueError(f'Image {images[stem]!r} has no '
                       f'{"/".join(map_extensions)} partner in {map_dir!r}.')
    hw_img, hw_map = _image_size(images[stem]), _image_size(maps[stem])
    if hw_img != hw_map:
      raise ValueError(
          f'Size mismatch: image {images[stem]!r} is {hw_img[0]}x{hw_img[1]} '
          f'(HxW) but {maps[stem]!r} is {hw_map[0]}x{hw_map[1]}.')
    pairs.append((images[stem], maps[stem]))
  return pairs


def load_rgb(path: str) -> np.ndarray:
  with Image.open(path) as img:
    return np.asarray(img.convert('RGB'))


class SegmentationFolderInput(dense_inputs.IndexedDenseInput):
  """Images and PNG class-index masks (ADE20k / Pascal layouts).

  Attributes:
    image_dir: folder of images.
    mask_dir: folder of `<stem>.png` masks.
    class_list: text file, one class name per line.
    split_file: optional list of stems to use ('' = every image).
    reduce_zero_label: mask 0 -> ignore, v -> class v - 1 (ADE20k).
    ignore_values: mask values that mean "unlabelled" (Pascal: 255).
    num_classes: 0 = the class list's length.
  """
  image_dir: str = ''
  mask_dir: str = ''
  class_list: str = ''
  split_file: str = ''
  reduce_zero_label: bool = False
  ignore_values: tuple[int, ...] = (255,)
  num_classes: int = 0
  class_names: Any = dataclasses.field(init=False, repr=False, default=None)
  _pairs: Any = dataclasses.field(init=False, repr=False, default=None)

  def __post_init__(self):
    self.class_names = read_class_list(self.class_list)
    if self.num_classes == 0:
      self.num_classes = len(self.class_names)
    elif self.num_classes != len(self.class_names):
      raise ValueError(f'num_classes={self.num_classes} but the class list '
                       f'{self.class_list!r} names {len(self.class_names)}.')
    super().__post_init__()
    self._pairs = pair_files(self.image_dir, self.mask_dir, ('.png',),
                             self.split_file)

  def _num_available(self) -> int:
    return len(self._pairs)

  def load_example(self, i: int) -> dict[str, np.ndarray]:
    image_path, mask_path = self._pairs[i]
    with Image.open(mask_path) as m:
      if m.mode not in ('P', 'L', 'I', 'I;16', '1'):
        raise ValueError(f'{mask_path}: mask mode {m.mode!r}; expected a '
                         'single-channel or palette PNG of class indices.')
      mask = np.asarray(m)
    labels = map_labels(mask, self.num_classes, self.reduce_zero_label,
                        self.ignore_values, mask_path)
    return dict(
        image=cover_and_crop(load_rgb(image_path), self.hw, Image.BILINEAR),
        label=cover_and_crop(labels, self.hw, Image.NEAREST))

  def _load(self, indices: np.ndarray) -> NestedMap:
    return _stack([self.load_example(int(i)) for i in indices])


class DepthFolderInput(dense_inputs.IndexedDenseInput):
  """Images and depth maps (16-bit PNG or .npy, NYU / KITTI layouts).

  Attributes:
    image_dir: folder of images.
    depth_dir: folder of `<stem>.png` (16-bit) or `<stem>.npy` depth maps.
    split_file: optional list of stems to use ('' = every image).
    depth_scale: PNG value per metre (NYU toolbox 1000, KITTI 256); .npy
      files hold metres.
  """
  image_dir: str = ''
  depth_dir: str = ''
  split_file: str = ''
  depth_scale: float = 1000.0
  num_classes: int = 1  # Unused (no class map).
  _pairs: Any = dataclasses.field(init=False, repr=False, default=None)

  def __post_init__(self):
    super().__post_init__()
    if self.depth_scale <= 0:
      raise ValueError(f'depth_scale={self.depth_scale} must be positive.')
    self._pairs = pair_files(self.image_dir, self.depth_dir, ('.png', '.npy'),
                             self.split_file)

  def _num_available(self) -> int:
    return len(self._pairs)

  def load_example(self, i: int) -> dict[str, np.ndarray]:
    image_path, depth_path = self._pairs[i]
    if depth_path.endswith('.npy'):
      raw, scale = np.load(depth_path, allow_pickle=False), 1.0
    else:
      with Image.open(depth_path) as d:
        if d.mode not in ('I', 'I;16', 'I;16B', 'L'):
          raise ValueError(f'{depth_path}: depth PNG mode {d.mode!r}; '
                           'expected a single-channel (16-bit) PNG.')
        raw, scale = np.asarray(d), self.depth_scale
    if raw.ndim != 2:
      raise ValueError(f'{depth_path}: depth must be [H, W], got shape '
                       f'{raw.shape}.')
    depth = cover_and_crop(clean_depth(raw, scale, depth_path), self.hw,
                           Image.NEAREST)
    return dict(
        image=cover_and_crop(load_rgb(image_path), self.hw, Image.BILINEAR),
        depth=depth, depth_valid=depth > 0)

  def _load(self, indices: np.ndarray) -> NestedMap:
    return _stack([self.load_example(int(i)) for i in indices])


def _stack(examples: list[dict[str, np.ndarray]]) -> NestedMap:
  batch = NestedMap({k: np.stack([e[k] for e in examples])
                     for k in examples[0]})
  batch.image = batch.image.astype(np.float32) / 255.0
  return batch


class DenseTfdsInput(tfds_stream.TfdsStreamInput,
                     dense_inputs.IndexedDenseInput):
  """A prepared TFDS segmentation or depth data set (never downloads).

  The stream (host split keeping every eval example, shuffle seeded by
  (seed, input_random_seed, host), eval padding with weight 0, iterator
  state) is `tfds_stream.TfdsStreamInput`; this class supplies the
  per-example map, in tf.data: decode, map the mask values to classes (or
  clean the depth), resize to cover (H, W) and centre-crop
  (`crop.tf_resize_small_crop`: image bilinear, maps nearest). Bad data
  raises ValueError naming the example (its position in this host's
  stream) when its batch is read.

  Attributes (besides those of `tfds_stream.TfdsStreamInput`):
    task: 'segmentation' (image + mask feature) or 'depth'.
    image_key: image feature.
    label_key: class-index mask feature (segmentation).
    depth_key: depth feature (depth; metres = value / depth_scale).
    reduce_zero_label: mask 0 -> ignore, v -> v - 1 (scene_parse150).
    ignore_values: mask values meaning "unlabelled".
    depth_scale: depth units per metre (nyu_depth_v2: 1, metres).
  """
  _KIND = 'DenseTfdsInput'
  _STATE_MAGIC = b'vit22b_pax.DenseTfdsInput.v2\0'
  _EXAMPLE_NAME = 'scene_parse150'
  task: str = 'segmentation'
  image_key: str = 'image'
  label_key: str = 'annotation'
  depth_key: str = 'depth'
  reduce_zero_label: bool = False
  ignore_values: tuple[int, ...] = ()
  depth_scale: float = 1.0

  def __post_init__(self):
    if self.task not in ('segmentation', 'depth'):
      raise ValueError(f"task={self.task!r} must be 'segmentation' or "
                       "'depth'.")
    if self.depth_scale <= 0:
      raise ValueError(f'depth_scale={self.depth_scale} must be positive.')
    super().__post_init__()

  @property
  def _target_key(self) -> str:
    return self.label_key if self.task == 'segmentation' else self.depth_key

  def _feature_keys(self) -> tuple[str, ...]:
    return (self.image_key, self._target_key)

  def _decode(self, value, key: str):
    """A feature as a [h, w, C] tensor (encoded images decoded exactly)."""
    if value.dtype == tf.string:
      if self._builder.info.features[key].np_dtype == np.uint16:
        value = tf.io.decode_png(value, channels=0, dtype=tf.uint16)
      else:
        value = tf.io.decode_image(value, channels=0, expand_animations=False)
    shape = tf.shape(value)
    return tf.reshape(value, tf.concat([shape[:2], [-1]], 0))

  def _preprocess(self, position, example):
    image = example[self.image_key]
    image = (tfimage.decode(image) if image.dtype == tf.string else
             tfimage.as_float(image))
    target = self._decode(example[self._target_key], self._target_key)
    out = dict(position=position, image_hw=tf.shape(image)[:2],
               target_hw=tf.shape(target)[:2],
               image=crop.tf_resize_small_crop(image, self.hw))
    if self.task == 'segmentation':
      mask = tf.cast(target, tf.int64)
      out['colour'] = tf.reduce_any(mask != mask[..., :1])
      labels, out['bad_value'] = tf_map_labels(
          mask[..., 0], self.num_classes, self.reduce_zero_label,
          self.ignore_values)
      out['label'] = crop.tf_resize_small_crop(
          labels[..., None], self.hw, method='nearest')[..., 0]
    else:
      depth = tf.cast(target[..., 0], tf.float32)
      out['min_depth'] = tf.reduce_min(tf.where(tf.math.is_nan(depth),
                                                np.inf, depth))
      ok = tf.math.is_finite(depth) & (depth > 0)
      depth = tf.where(ok, depth / self.depth_scale, 0.0)
      out['depth'] = crop.tf_resize_small_crop(
          depth[..., None], self.hw, method='nearest')[..., 0]
    return out

  def _make_batch(self, arrays: dict[str, np.ndarray],
                  real: np.ndarray) -> NestedMap:
    for i in np.flatnonzero(real):
      self._check_example(arrays, i)
    batch = NestedMap(image=arrays['image'])
    if self.task == 'segmentation':
      batch.label = np.where(real[:, None, None], arrays['label'], IGNORE)
    else:
      batch.update(depth=arrays['depth'], depth_valid=arrays['depth'] > 0)
    return self._pack_dense(batch, real.astype(np.float32), self._step)

  def _check_example(self, arrays: dict[str, np.ndarray], i: int) -> None:
    """ValueError naming the example when its data is bad."""
    where = (f'{self.dataset_name}[{self.split}] example '
             f'{int(arrays["position"][i])}')
    (h, w), (th, tw) = arrays['image_hw'][i], arrays['target_hw'][i]
    if (h, w) != (th, tw):
      raise ValueError(f'{where}: {self._target_key!r} is {th}x{tw} but the '
                       f'image is {h}x{w} (HxW).')
    if self.task == 'segmentation':
      if arrays['colour'][i]:
        raise ValueError(f'{where}: colour-coded (RGB) mask; expected a '
                         'single-channel or palette PNG of class indices.')
      if arrays['bad_value'][i] >= 0:
        raise label_error(where, int(arrays['bad_value'][i]),
                          self.num_classes, self.reduce_zero_label,
                          self.ignore_values)
    elif arrays['min_depth'][i] < 0:
      raise ValueError(f'{where}: negative depth '
                       f'{float(arrays["min_depth"][i])}; expected metres '
                       '(or PNG units) >= 0, 0 = invalid.')


def tf_map_labels(mask, num_classes: int, reduce_zero_label: bool,
                  ignore_values: Sequence[int]):
  """`map_labels` in TensorFlow on an int64 [h, w] mask: (labels int32 with
  IGNORE, the first bad mask value or -1)."""
  ignore = tf.zeros_like(mask, tf.bool)
  for v in ignore_values:
    ignore |= mask == v
  labels = mask - 1 if reduce_zero_label else mask
  if reduce_zero_label:
    ignore |= mask == 0
  bad = ~ignore & ((labels < 0) | (labels >= num_classes))
  first = tf.concat([tf.boolean_mask(mask, bad),
                     tf.constant([-1], tf.int64)], 0)[0]
  labels = tf.where(ignore | bad, tf.constant(IGNORE, tf.int64), labels)
  return tf.cast(labels, tf.int32), first
