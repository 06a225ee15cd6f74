# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""Real image data behind the same batch keys as `inputs.ProceduralInput`.

* `ImageFolderInput`: `root/<split>/<class>/*.{png,jpg,jpeg}` (or a
  multi-label CSV per split), decoded with PIL on the calling thread. The
  class list, CSV format and unreadable-image rule are in `folders.py`; the
  tf.data twin with parallel decode is `tfdata.TfDataImageFolderInput`.
* `FashionMnistInput`: the IDX .gz files of the Debian package
  `dataset-fashion-mnist` (`/usr/share/datasets/fashion-mnist`).
* `TfdsInput`: any prepared TFDS data set (`download=False`); defined in
  `tfdata.py`, re-exported here.

All of them checkpoint their position (`get_state` / `set_state`) and resume
bit-identically. texture_label = -1, subgroup = 0.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import struct
from typing import Any

import numpy as np
from praxis import py_utils

from vit22b_pax.data import augment
from vit22b_pax.data import folders
from vit22b_pax.data import inputs
from vit22b_pax.data import tfds_input

NestedMap = py_utils.NestedMap
# The TFDS input, re-exported (recipes name it real.TfdsInput).
TfdsInput = tfds_input.TfdsInput
IMAGE_EXTENSIONS = folders.IMAGE_EXTENSIONS
FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist'
FASHION_MNIST_CLASSES = ('T-shirt/top', 'trouser', 'pullover', 'dress', 'coat',
                         'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot')
load_image = folders.load_image


def real_batch(image, label, valid=None) -> NestedMap:
  """NestedMap with the keys `IndexedImageInput._augment_and_pack` expects."""
  batch = NestedMap(image=image, label=np.asarray(label, np.int32),
                    texture_label=np.full(len(label), -1, np.int32),
                    subgroup=np.zeros(len(label), np.int32))
  if valid is not None:
    batch.valid = valid
  return batch


class ImageFolderInput(inputs.IndexedImageInput):
  """Images from `root/<split>/<class>/*.{png,jpg,jpeg}`, decoded with PIL.

  Class list, multi-label CSV format and the unreadable-image rule: see
  `vit22b_pax/data/folders.py`. Eval (and training without Inception crop):
  the shorter side is resized to image_size / crop_fraction and the centre
  image_size square is cropped. Training with `inception_crop`: the crop box
  is sampled on the full-resolution image (`augment.sample_inception_boxes`)
  and resized to image_size. Unreadable files weigh 0 (eval) or are replaced
  by the next readable file (training).

  Attributes:
    root: the image folder root.
    split: sub-folder to read ('train', 'test', ...).
    class_names: explicit class list (class id = position); None = the sorted
      class folders (or CSV label names) of `class_split`. Holds the resolved
      tuple after construction.
    class_split: split whose folders / CSV define the class list.
    labels_csv: '' = single-label class folders; else the multi-label CSV of
      each split ('{split}' is substituted; a relative path is inside
      root/<split>), giving k-hot label_probs.
    crop_fraction: centre-crop fraction in (0, 1] (0.875 = big_vision's
      resize_small(256) | central_crop(224) at 224 px).
    max_unreadable_fraction: raise once more than this fraction of the files
      tried are unreadable (1.0 = never).
  """
  root: str = ''
  split: str = 'train'
  num_classes: int = 0  # 0 = number of classes in the class list.
  class_names: Any = None
  class_split: str = 'train'
  labels_csv: str = ''
  crop_fraction: float = 0.875
  max_unreadable_fraction: float = 0.5
  _listing: Any = dataclasses.field(init=False, repr=False, default=None)
  _files: Any = dataclasses.field(init=False, repr=False, default=None)
  _labels: Any = dataclasses.field(init=False, repr=False, default=None)
  _tracker: Any = dataclasses.field(init=False, repr=False, default=None)

  def __post_init__(self):
    if not 0.0 < self.crop_fraction <= 1.0:
      raise ValueError(f'crop_fraction={self.crop_fraction} must be in '
                       '(0, 1].')
    self._listing = folders.list_split(
        self.root, self.split, self.class_names, self.class_split,
        self.labels_csv)
    self.class_names = self._listing.class_names
    self._files, self._labels = self._listing.files, self._listing.labels
    if self.num_classes == 0:
      self.num_classes = len(self.class_names)
    elif self.num_classes < len(self.class_names):
      raise ValueError(f'num_classes={self.num_classes} < the '
                       f'{len(self.class_names)} classes of '
                       f'{os.path.join(self.root, self.split)!r}.')
    super().__post_init__()
    self._tracker = folders.UnreadableTracker(
        self.name, os.path.join(self.root, self.split), len(self._files),
        self.max_unreadable_fraction)

  @property
  def multi_label(self) -> bool:
    """True when targets come from a labels CSV (k-hot label_probs)."""
    return self._listing.khot is not None

  @property
  def num_bad_files(self) -> int:
    return self._tracker.num_bad

  def _num_available(self) -> int:
    return len(self._files)

  def _targets(self, files: np.ndarray) -> np.ndarray:
    """[B, num_classes] float32 one-hot / k-hot targets of file ids."""
    if self.multi_label:
      khot = self._listing.khot[files]
      return np.pad(khot, ((0, 0), (0, self.num_classes - khot.shape[1])))
    return inputs.one_hot(self._labels[files], self.num_classes)

  def _try_load(self, i: int, box_fn) -> np.ndarray | None:
    if self._tracker.bad[i]:
      return None
    try:
      img = folders.load_image(self._files[i], self.image_size,
                               self.crop_fraction, box_fn)
    except folders.DECODE_ERRORS as e:
      self._tracker.record([i], [False], self._files,
                           {i: f'({type(e).__name__}: {e})'})
      return None
    self._tracker.record([i], [True], self._files)
    return img

  def _load(self, indices: np.ndarray) -> NestedMap:
    s, n = self.image_size, len(self._files)
    images = np.zeros((len(indices), s, s, 3), np.float32)
    files = np.array(indices, np.int64)
    valid = np.ones(len(indices), bool)
    crop = self.is_training and self.inception_crop
    box_fn = None
    if crop:
      rng = np.random.default_rng((self.seed, 3, self.input_random_seed or 0,
                                   self.infeed_host_index, self._step))
      box_fn = lambda h, w: augment.sample_inception_boxes(rng, 1, h, w)[0]
    for k, i in enumerate(indices):
      img = self._try_load(int(i), box_fn)
      # Training: replace a bad file by the next readable one.
      for j in range(1, n if self.is_training else 1):
        if img is not None:
          break
        files[k] = (i + j) % n
        img = self._try_load(int(files[k]), box_fn)
      if img is None:
        valid[k] = False
      else:
        images[k] = img
    batch = real_batch(images, self._labels[files], valid)
    batch.label_probs = self._targets(files)
    batch.crop_done = crop
    return batch


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
    return real_batch(np.repeat(grey, 3, axis=-1), self._labels[indices])
