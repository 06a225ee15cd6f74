# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""Real image data behind the same batch keys as `inputs.ProceduralInput`.

* `ImageFolderInput`: `root/<split>/<class>/*.{png,jpg,jpeg}`, labels = sorted
  class folder names, decoded with PIL. Unreadable files are skipped (weight 0
  in eval, replaced by another image in training), counted, and reported with
  `logging.warning` (count and first bad path).
* `FashionMnistInput`: the IDX .gz files of the Debian package
  `dataset-fashion-mnist` (`/usr/share/datasets/fashion-mnist`).
* `TfdsInput`: any prepared TFDS data set (`download=False`), via tf.data.

Images are resized so the shorter side is `image_size`, then centre-cropped
(Fashion-MNIST: resized or zero-padded). texture_label = -1, subgroup = 0.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import struct
from typing import Any

from absl import logging
import numpy as np
from PIL import Image
from praxis import py_utils

from vit22b_pax.data import augment
from vit22b_pax.data import inputs

NestedMap = py_utils.NestedMap
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg')
FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist'
FASHION_MNIST_CLASSES = ('T-shirt/top', 'trouser', 'pullover', 'dress', 'coat',
                         'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot')


def _real_batch(image, label, valid=None) -> NestedMap:
  batch = NestedMap(image=image, label=np.asarray(label, np.int32),
                    texture_label=np.full(len(label), -1, np.int32),
                    subgroup=np.zeros(len(label), np.int32))
  if valid is not None:
    batch.valid = valid
  return batch


def load_image(path: str, size: int) -> np.ndarray:
  """Decodes `path`; shorter side -> size, centre crop: [S, S, 3] in [0, 1]."""
  with Image.open(path) as img:
    img = img.convert('RGB')
    w, h = img.size
    scale = size / min(w, h)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    img = img.resize((nw, nh), Image.BILINEAR)
    left, top = (nw - size) // 2, (nh - size) // 2
    img = img.crop((left, top, left + size, top + size))
    return np.asarray(img, np.float32) / 255.0


def list_image_folder(root: str, split: str
                      ) -> tuple[list[str], np.ndarray, tuple[str, ...]]:
  """(sorted file paths, [N] int32 labels, class names) of root/split."""
  split_dir = os.path.join(root, split)
  if not os.path.isdir(split_dir):
    raise ValueError(f'Image folder {split_dir!r} does not exist; expected '
                     f'{root}/{split}/<class>/*.{{png,jpg,jpeg}}.')
  classes = tuple(sorted(
      d for d in os.listdir(split_dir)
      if os.path.isdir(os.path.join(split_dir, d))))
  files, labels = [], []
  for label, name in enumerate(classes):
    class_dir = os.path.join(split_dir, name)
    for f in sorted(os.listdir(class_dir)):
      if f.lower().endswith(IMAGE_EXTENSIONS):
        files.append(os.path.join(class_dir, f))
        labels.append(label)
  if not files:
    raise ValueError(f'Image folder {split_dir!r} has no class folders with '
                     f'{"/".join(IMAGE_EXTENSIONS)} images; expected '
                     f'{split_dir}/<class>/<image>.')
  return files, np.asarray(labels, np.int32), classes


class ImageFolderInput(inputs.IndexedImageInput):
  """Images from `root/<split>/<class>/*.{png,jpg,jpeg}`.

  Attributes:
    root: the image folder root.
    split: sub-folder to read ('train', 'test', ...).
  """
  root: str = ''
  split: str = 'train'
  num_classes: int = 0  # 0 = number of class folders.
  class_names: Any = dataclasses.field(init=False, repr=False, default=None)
  _files: Any = dataclasses.field(init=False, repr=False, default=None)
  _labels: Any = dataclasses.field(init=False, repr=False, default=None)
  _bad: Any = dataclasses.field(init=False, repr=False, default=None)

  def __post_init__(self):
    self._files, self._labels, self.class_names = list_image_folder(
        self.root, self.split)
    if self.num_classes == 0:
      self.num_classes = len(self.class_names)
    elif self.num_classes < len(self.class_names):
      raise ValueError(f'num_classes={self.num_classes} < the '
                       f'{len(self.class_names)} class folders in '
                       f'{os.path.join(self.root, self.split)!r}.')
    super().__post_init__()
    self._bad = []

  @property
  def num_bad_files(self) -> int:
    return len(self._bad)

  def _num_available(self) -> int:
    return len(self._files)

  def _try_load(self, i: int) -> np.ndarray | None:
    path = self._files[i]
    if path in self._bad:
      return None
    try:
      return load_image(path, self.image_size)
    except (OSError, ValueError, SyntaxError) as e:
      self._bad.append(path)
      logging.warning('%s: skipped %d unreadable image(s) so far; first: %s '
                      '(latest: %s: %s)', self.name, len(self._bad),
                      self._bad[0], path, e)
      return None

  def _load(self, indices: np.ndarray) -> NestedMap:
    s, n = self.image_size, len(self._files)
    images = np.zeros((len(indices), s, s, 3), np.float32)
    labels = self._labels[indices].copy()
    valid = np.ones(len(indices), bool)
    for k, i in enumerate(indices):
      img = self._try_load(int(i))
      # Training: replace a bad file by the next readable one.
      for j in range(1, n if self.is_training else 1):
        if img is not None:
          break
        labels[k] = self._labels[(i + j) % n]
        img = self._try_load(int((i + j) % n))
      if img is None:
        valid[k] = False
      else:
        images[k] = img
    return _real_batch(images, labels, valid)


def read_idx(path: str) -> np.ndarray:
  """Reads a gzipped IDX file (uint8 images [N, R, C] or labels [N])."""
  with gzip.open(path, 'rb') as f:
    data = f.read()
  magic, n = struct.unpack('>II', data[:8])
  if magic == 2049:
    return np.frombuffer(data, np.uint8, n, offset=8)
  if magic == 2051:
    rows, cols = struct.unpack('>II', data[8:16])
    return np.frombuffer(data, np.uint8, n * rows * cols,
                         offset=16).reshape(n, rows, cols)
  raise ValueError(f'{path!r} is not an IDX uint8 label/image file '
                   f'(magic {magic}, expected 2049 or 2051).')


class FashionMnistInput(inputs.IndexedImageInput):
  """Fashion-MNIST (10 classes, 28x28 grey) from the IDX .gz files.

  Attributes:
    data_dir: folder with {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz.
    split: 'train' (60k) or 'test' (10k).
    fit: 'resize' (bilinear to image_size) or 'pad' (zero-pad the 28x28
      image to the centre of image_size >= 28; black = -1 after scaling).
  """
  data_dir: str = FASHION_MNIST_DIR
  split: str = 'train'
  fit: str = 'resize'
  _images: Any = dataclasses.field(init=False, repr=False, default=None)
  _labels: Any = dataclasses.field(init=False, repr=False, default=None)

  def __post_init__(self):
    super().__post_init__()
    prefix = {'train': 'train', 'test': 't10k'}.get(self.split)
    if prefix is None:
      raise ValueError(f"Unknown split={self.split!r}; expected 'train' or "
                       "'test'.")
    if self.fit not in ('resize', 'pad'):
      raise ValueError(f"fit={self.fit!r} must be 'resize' or 'pad'.")
    if self.fit == 'pad' and self.image_size < 28:
      raise ValueError(f"fit='pad' needs image_size >= 28, got "
                       f'{self.image_size}.')
    if self.num_classes != 10:
      raise ValueError(f'Fashion-MNIST has 10 classes, got num_classes='
                       f'{self.num_classes}.')
    paths = [os.path.join(self.data_dir, f'{prefix}-{kind}-ubyte.gz')
             for kind in ('images-idx3', 'labels-idx1')]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
      raise ValueError(f'Fashion-MNIST files missing: {missing}; expected '
                       f'{paths} (apt-get install dataset-fashion-mnist).')
    self._images, self._labels = read_idx(paths[0]), read_idx(paths[1])

  def _num_available(self) -> int:
    return len(self._labels)

  def _load(self, indices: np.ndarray) -> NestedMap:
    grey = self._images[indices].astype(np.float32)[..., None] / 255.0
    if self.fit == 'pad':
      lo = (self.image_size - 28) // 2
      hi = self.image_size - 28 - lo
      grey = np.pad(grey, ((0, 0), (lo, hi), (lo, hi), (0, 0)))
    elif self.image_size != 28:
      grey = augment.resize(grey, self.image_size)
    return _real_batch(np.repeat(grey, 3, axis=-1), self._labels[indices])


class TfdsInput(inputs.IndexedImageInput):
  """Any prepared TFDS image classification data set (never downloads).

  Hosts read `tfds.even_splits(split, num_infeed_hosts, drop_remainder=True)`
  so every host has the same number of examples (and eval batches).
  `num_examples` > 0 caps the examples per host. `seed` and augmentation
  fields as in `IndexedImageInput`; input state is not checkpointed.

  Attributes:
    dataset_name: TFDS name, e.g. 'imagenet2012:5.1.0'.
    data_dir: TFDS data dir (None = TFDS default).
    split: TFDS split, e.g. 'train', 'validation[:1000]'.
    image_key: feature with the image.
    label_key: feature with the integer label.
    shuffle_buffer: training shuffle buffer size.
  """
  dataset_name: str = ''
  data_dir: str | None = None
  split: str = 'train'
  image_key: str = 'image'
  label_key: str = 'label'
  shuffle_buffer: int = 10_000
  _iter: Any = dataclasses.field(init=False, repr=False, default=None)

  def __post_init__(self):
    super().__post_init__()
    if not self.dataset_name:
      raise ValueError('TfdsInput needs dataset_name, e.g. "mnist".')
    self._iter = iter(self._make_dataset())

  def _make_dataset(self):
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
    host_split = tfds.even_splits(self.split, n=self.num_infeed_hosts,
                                  drop_remainder=True)[self.infeed_host_index]
    try:
      ds = tfds.load(self.dataset_name, split=host_split,
                     data_dir=self.data_dir, download=False,
                     shuffle_files=self.is_training,
                     read_config=tfds.ReadConfig(shuffle_seed=self.seed))
    except (tfds.core.DatasetNotFoundError, AssertionError) as e:
      raise ValueError(f'TFDS data set {self.dataset_name!r} (split '
                       f'{self.split!r}) not found in data_dir='
                       f'{self.data_dir!r}; prepare it first: {e}') from e
    size = self.image_size

    def prepare(ex):
      img = tf.cast(ex[self.image_key], tf.float32) / 255.0
      if img.shape[-1] == 1:
        img = tf.image.grayscale_to_rgb(img)
      hw = tf.cast(tf.shape(img)[:2], tf.float32)
      new = tf.cast(tf.math.ceil(hw * size / tf.reduce_min(hw)), tf.int32)
      img = tf.image.resize(img, new)
      img = tf.image.resize_with_crop_or_pad(img, size, size)
      return img, tf.cast(ex[self.label_key], tf.int32)

    if self.num_examples:
      ds = ds.take(self.num_examples)
    if self.is_training:
      ds = ds.repeat().shuffle(self.shuffle_buffer, seed=self.seed)
    elif not self.reset_for_eval:
      ds = ds.repeat()
    ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(self.batch_size).prefetch(2).as_numpy_iterator()

  def _num_available(self) -> int | None:
    return None

  def get_next(self) -> NestedMap:
    image, label = next(self._iter)  # StopIteration ends an eval pass.
    b = self.batch_size
    weights = np.zeros(b, np.float32)
    weights[:len(label)] = 1.0
    if len(label) < b:  # Pad the last eval batch.
      pad = b - len(label)
      image = np.concatenate([image, np.zeros((pad,) + image.shape[1:],
                                              image.dtype)])
      label = np.concatenate([label, np.zeros(pad, label.dtype)])
    batch = self._augment_and_pack(_real_batch(image, label), weights,
                                   self._step)
    self._step += 1
    return batch

  def reset(self) -> None:
    super().reset()
    self._iter = iter(self._make_dataset())

  def _get_state_internal(self) -> bytes:
    raise NotImplementedError('TfdsInput does not checkpoint its state.')
