# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Out-of-distribution evaluation of an ImageNet-1k classifier, with label maps.

Every benchmark scores the 1000-way output of `predict_fn(images [B, H, W, 3]
float32 in [-1, 1]) -> scores [B, 1000]` (logits or probabilities: only their
order matters); targets are ImageNet-1k indices in the canonical order of
TFDS `imagenet2012/labels.txt` unless stated:

* ImageNet-A / ImageNet-R: their 200-class subsets (`data/imagenet_{a,r}_*`):
  the 1000 scores are restricted to the subset and arg-maxed.
* ObjectNet: its ImageNet-overlapping classes (113 in the release mapping;
  several ImageNet classes may map to one ObjectNet class). A class scores the
  max of its ImageNet classes' scores; target = the ObjectNet class (folder).
  The mapping is not redistributable from PyPI: pass the release's
  `mappings/` folder or a JSON `{"<folder>": [ImageNet index or WNID, ...]}`.
* ImageNet-ReaL: multi-label; a prediction is right if it is in the image's
  ReaL label set (`data/imagenet_real_labels.json`), images with an empty set
  are skipped.
* ImageNet-v2 (and the ImageNet validation set): the same 1000 classes.

Examples come from an image directory (`root/<class>/<image>`, class = WNID
or integer index; ObjectNet: its folder names; ReaL: the validation file name
`ILSVRC2012_val_<n>.JPEG`) or a prepared TFDS data set (no download).
Images are centre-cropped to a square and resized (bilinear).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
from PIL import Image

from vit22b_pax.eval import decision_mapping

_DATA = os.path.join(os.path.dirname(__file__), 'data')
_IMAGE_EXT = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')
_VAL_NAME = re.compile(r'ILSVRC2012_val_(\d{8})', re.IGNORECASE)
BENCHMARKS = ('imagenet_a', 'imagenet_r', 'objectnet', 'real', 'v2')


@functools.lru_cache(maxsize=None)
def subset_indices(name: str) -> np.ndarray:
  """The sorted 200 ImageNet-1k indices of 'imagenet_a' or 'imagenet_r'."""
  if name not in ('imagenet_a', 'imagenet_r'):
    raise ValueError(f"subset {name!r}: expected 'imagenet_a' or 'imagenet_r'")
  with open(os.path.join(_DATA, f'{name}_indices.txt')) as f:
    return np.array([int(x) for x in f.read().split()])


@functools.lru_cache(maxsize=None)
def real_labels(path: str | None = None) -> tuple[tuple[int, ...], ...]:
  """ReaL label sets of the 50,000 validation images (index = number - 1)."""
  with open(path or os.path.join(_DATA, 'imagenet_real_labels.json')) as f:
    return tuple(tuple(x) for x in json.load(f))


@functools.lru_cache(maxsize=None)
def _wnid_index() -> dict[str, int]:
  return {w: i for i, w in enumerate(decision_mapping.imagenet2012_wnids())}


def imagenet_class(name: str) -> int:
  """A class folder name (WNID or integer 0..999) -> ImageNet-1k index."""
  if name.isdigit() and int(name) < 1000:
    return int(name)
  if name in _wnid_index():
    return _wnid_index()[name]
  raise ValueError(f'class {name!r} is neither an ImageNet-1k WNID nor an '
                   'index in [0, 1000)')


def load_objectnet_mapping(path: str) -> dict[str, tuple[int, ...]]:
  """ObjectNet class (folder) -> ImageNet-1k indices.

  Args:
    path: either the ObjectNet release's `mappings/` folder (files
      `folder_to_objectnet_label.json`, `objectnet_to_imagenet_1k.json`,
      `pytorch_to_imagenet_2012_id.json`, `imagenet_to_label_2012_v2`; read as
      in wise-ft / clip_benchmark `datasets/objectnet.py`), or a JSON file
      `{"<folder>": [ImageNet-1k index or WNID, ...], ...}`.
  """
  if os.path.isdir(path):
    def load(name):
      with open(os.path.join(path, name)) as f:
        return json.load(f) if name.endswith('.json') else f.read()
    folder_of = {v: k for k, v in load('folder_to_objectnet_label.json')
                 .items()}
    pytorch_of = {v: int(k) for k, v in load(
        'pytorch_to_imagenet_2012_id.json').items()}
    names = load('imagenet_to_label_2012_v2').splitlines()
    index_of = {n.strip(): pytorch_of[i] for i, n in enumerate(names)}
    mapping = {}
    for objectnet_name, imagenet_names in load(
        'objectnet_to_imagenet_1k.json').items():
      if objectnet_name not in folder_of:
        raise ValueError(f'{path}: ObjectNet class {objectnet_name!r} has no '
                         'folder in folder_to_objectnet_label.json')
      try:
        ids = [index_of[n] for n in imagenet_names.split('; ')]
      except KeyError as e:
        raise ValueError(f'{path}: ImageNet class {e.args[0]!r} of '
                         f'{objectnet_name!r} not in imagenet_to_label_2012_v2'
                         ) from None
      mapping[folder_of[objectnet_name]] = tuple(sorted(ids))
    return mapping
  with open(path) as f:
    raw = json.load(f)
  if not isinstance(raw, dict) or not raw:
    raise ValueError(f'{path}: expected a JSON object '
                     '{"<folder>": [ImageNet index or WNID, ...]}')
  mapping = {}
  for k, v in raw.items():
    if not isinstance(v, list) or not v:
      raise ValueError(f'{path}: class {k!r}: expected a non-empty list, got '
                       f'{v!r}')
    try:
      mapping[k] = tuple(sorted(imagenet_class(str(x)) for x in v))
    except ValueError as e:
      raise ValueError(f'{path}: class {k!r}: {e}') from None
  return mapping


@dataclasses.dataclass
class Benchmark:
  """Scores [B, 1000] outputs against one benchmark's targets.

  Attributes:
    name: one of BENCHMARKS.
    objectnet_mapping: {ObjectNet folder: ImageNet indices} (objectnet only).
  """
  name: str
  objectnet_mapping: dict[str, tuple[int, ...]] | None = None

  def __post_init__(self):
    if self.name not in BENCHMARKS:
      raise ValueError(f'benchmark {self.name!r}: expected one of {BENCHMARKS}')
    if self.name == 'objectnet':
      if not self.objectnet_mapping:
        raise ValueError('objectnet needs a mapping (load_objectnet_mapping)')
      self._classes = sorted(self.objectnet_mapping)

  def correct(self, scores: np.ndarray, targets: Sequence[Any]) -> np.ndarray:
    """[B] 1.0 right / 0.0 wrong / NaN skipped (ReaL: empty label set).

    Args:
      scores: [B, 1000].
      targets: B ImageNet indices (a, r, v2), ObjectNet folder names
        (objectnet) or label sets (real).
    """
    scores = np.asarray(scores)
    if scores.ndim != 2 or scores.shape[1] != 1000:
      raise ValueError(f'{self.name}: expected scores [B, 1000], got '
                       f'{scores.shape}')
    if self.name in ('imagenet_a', 'imagenet_r'):
      idx = subset_indices(self.name)
      bad = [t for t in targets if t not in set(idx.tolist())]
      if bad:
        raise ValueError(f'{self.name}: target class {bad[0]} is not one of '
                         'its 200 classes')
      pred = idx[np.argmax(scores[:, idx], axis=1)]
      return (pred == np.asarray(targets)).astype(np.float64)
    if self.name == 'objectnet':
      cls_scores = np.stack([scores[:, list(self.objectnet_mapping[c])].max(1)
                             for c in self._classes], axis=1)
      pred = np.argmax(cls_scores, axis=1)
      out = []
      for p, t in zip(pred, targets):
        if t not in self.objectnet_mapping:
          raise ValueError(f'objectnet: class {t!r} is not in the mapping')
        out.append(float(self._classes[p] == t))
      return np.array(out)
    pred = np.argmax(scores, axis=1)
    if self.name == 'real':
      return np.array([float(p in t) if len(t) else np.nan
                       for p, t in zip(pred, targets)])
    return (pred == np.asarray(targets)).astype(np.float64)


def load_image(source: Any, image_size: int) -> np.ndarray:
  """Path or uint8 array -> float32 [S, S, 3] in [-1, 1] (centre crop)."""
  im = Image.open(source) if isinstance(source, str) else Image.fromarray(
      np.asarray(source, np.uint8))
  with im:
    im = im.convert('RGB')
    w, h = im.size
    s = min(w, h)
    im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s,
                  (h - s) // 2 + s)).resize((image_size, image_size),
                                            Image.BILINEAR)
    return np.asarray(im, np.float32) / 127.5 - 1.0


def image_folder_examples(root: str, benchmark: str,
                          real_labels_path: str | None = None
                          ) -> list[tuple[str, Any]]:
  """(image path, target) pairs of `root/<class>/<image>`.

  Targets: ImageNet index (class = WNID or 0..999) for a, r, v2; the folder
  name for objectnet; the ReaL set looked up by the file name
  `ILSVRC2012_val_<n>` for real (any folder layout).
  """
  if not os.path.isdir(root):
    raise ValueError(f'{root}: not a directory')
  out = []
  for dirpath, _, files in sorted(os.walk(root)):
    for f in sorted(files):
      if not f.lower().endswith(_IMAGE_EXT):
        continue
      path = os.path.join(dirpath, f)
      if benchmark == 'real':
        m = _VAL_NAME.search(f)
        if not m:
          raise ValueError(f'{path}: ReaL needs validation file names '
                           'ILSVRC2012_val_<8 digits>')
        n = int(m.group(1))
        labels = real_labels(real_labels_path)
        if not 1 <= n <= len(labels):
          raise ValueError(f'{path}: validation image number {n} outside '
                           f'1..{len(labels)}')
        out.append((path, labels[n - 1]))
        continue
      cls = os.path.relpath(dirpath, root).split(os.sep)[0]
      if cls == '.':
        raise ValueError(f'{path}: images must be in root/<class>/')
      try:
        target = cls if benchmark == 'objectnet' else imagenet_class(cls)
      except ValueError as e:
        raise ValueError(f'{path}: {e}') from None
      out.append((path, target))
  if not out:
    raise ValueError(f'{root}: no images found')
  return out


def tfds_examples(name: str, split: str, data_dir: str, benchmark: str,
                  max_examples: int | None = None,
                  real_labels_path: str | None = None
                  ) -> Iterator[tuple[Any, Any]]:
  """(uint8 image, target) pairs from a prepared TFDS data set (no download).

  Supported: imagenet_a, imagenet_r, imagenet_v2, imagenet2012 (TFDS labels
  all in the ImageNet-1k space), imagenet2012_real (`real_label`) and, for
  benchmark 'real', imagenet2012 validation via `file_name` and the shipped
  ReaL labels.
  """
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  ds = tfds.load(name, split=split, data_dir=data_dir, download=False,
                 try_gcs=False)
  if max_examples:
    ds = ds.take(max_examples)
  for ex in tfds.as_numpy(ds):
    if benchmark == 'real':
      if 'real_label' in ex:
        target = tuple(int(x) for x in ex['real_label'])
      else:
        fname = ex['file_name'].decode()
        m = _VAL_NAME.search(fname)
        if not m:
          raise ValueError(f'{name}: file_name {fname!r} is not a validation '
                           'image name')
        target = real_labels(real_labels_path)[int(m.group(1)) - 1]
    else:
      target = int(ex['label'])
    yield ex['image'], target


def evaluate(predict_fn: Callable[[np.ndarray], np.ndarray],
             examples: Iterable[tuple[Any, Any]], benchmark: Benchmark,
             image_size: int, batch_size: int = 32) -> dict[str, Any]:
  """Top-1 accuracy of predict_fn on (image, target) examples.

  Returns:
    {'benchmark', 'accuracy' (over scored examples), 'n' (scored),
    'n_skipped' (ReaL images without labels)}.
  """
  right, n, skipped = 0.0, 0, 0

  def flush(images, targets):
    nonlocal right, n, skipped
    c = benchmark.correct(predict_fn(np.stack(images)), targets)
    right += float(np.nansum(c))
    n += int(np.sum(~np.isnan(c)))
    skipped += int(np.sum(np.isnan(c)))

  images, targets = [], []
  for image, target in examples:
    images.append(load_image(image, image_size))
    targets.append(target)
    if len(images) == batch_size:
      flush(images, targets)
      images, targets = [], []
  if images:
    flush(images, targets)
  return {'benchmark': benchmark.name,
          'accuracy': right / n if n else float('nan'),
          'n': n, 'n_skipped': skipped}
