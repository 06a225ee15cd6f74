# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""Image-folder listing, multi-label CSVs, PIL decoding, unreadable images.

Shared by the PIL/NumPy `real.ImageFolderInput` and the tf.data
`tfdata.TfDataImageFolderInput`, so both read the same files with the same
labels in the same order.

Layout: `root/<split>/<class>/<image>` with extensions `IMAGE_EXTENSIONS`
(case-insensitive). Folders and files whose name starts with '.' (e.g.
`.ipynb_checkpoints`) are ignored.

Class list (single-label folders): `class_names` when given, else the sorted
class folders of `root/<class_split>` (the train split). Every split is checked
against it: a class folder that is not in the list is a `ValueError` naming it.
A split may lack some classes. The class id is the position in the list.

Multi-label CSV (`labels_csv`): UTF-8, comma-separated, parsed with Python's
`csv` module. The first row must be the header `path,labels`. Every other row
is one image:

    path,labels
    img/0001.jpg,cat;dog
    img/0002.jpg,dog
    img/0003.jpg,

`path` is relative to the folder holding the CSV (absolute paths are used as
they are); `labels` holds class names separated by ';' (surrounding spaces are
stripped, repeats ignored, empty = no positive class: the image is a negative
for every class). Class names may not contain ';' and must not be empty. The
class list is `class_names` when given, else the sorted union of the names in
the class split's CSV. A name outside the list, a duplicate path, a missing
file or a row without two columns is a `ValueError` naming the row.

Unreadable images: `UnreadableTracker` counts distinct files tried and failed;
when more than `max_unreadable_fraction` of them fail (checked once
min(`MIN_CHECKED`, split size) files were tried) it raises a `ValueError`
naming the folder and the first bad file, so a split of broken files never
trains on blank images or reports metrics over nothing.
"""

from __future__ import annotations

import csv
import dataclasses
import os
from typing import Sequence

from absl import logging
import numpy as np
from PIL import Image

from vit22b_pax.data import crop

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg')
CSV_HEADER = ('path', 'labels')
LABEL_SEPARATOR = ';'
# Unreadable fraction checked once this many distinct files (or the whole
# split, if smaller) were tried.
MIN_CHECKED = 16
# PIL modes holding more than 8 bits per sample, with their full-scale value.
_HIGH_BIT_MODES = {'I;16': 65535.0, 'I;16L': 65535.0, 'I;16B': 65535.0,
                   'I;16N': 65535.0, 'I': 65535.0}
# Errors PIL raises for a missing, truncated or non-image file.
DECODE_ERRORS = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)


@dataclasses.dataclass(frozen=True)
class Listing:
  """Files and targets of one split.

  Attributes:
    files: image paths, in reading order.
    labels: [N] int32 class id (multi-label: smallest positive id, -1 = none).
    khot: [N, C] float32 k-hot targets (multi-label only), else None.
    class_names: the C class names; class id = position.
  """
  files: tuple[str, ...]
  labels: np.ndarray
  khot: np.ndarray | None
  class_names: tuple[str, ...]


def _visible(names: Sequence[str]) -> list[str]:
  return sorted(n for n in names if not n.startswith('.'))


def _split_dir(root: str, split: str) -> str:
  split_dir = os.path.join(root, split)
  if not os.path.isdir(split_dir):
    raise ValueError(f'Image folder {split_dir!r} does not exist; expected '
                     f'{root}/{split}/<class>/*.{{png,jpg,jpeg}}.')
  return split_dir


def class_folders(root: str, split: str) -> tuple[str, ...]:
  """Sorted class folder names of root/split (dot-folders ignored)."""
  split_dir = _split_dir(root, split)
  return tuple(d for d in _visible(os.listdir(split_dir))
               if os.path.isdir(os.path.join(split_dir, d)))


def _check_class_names(class_names: Sequence[str]) -> tuple[str, ...]:
  names = tuple(str(n) for n in class_names)
  if not names:
    raise ValueError('class_names is empty; expected at least one class.')
  dup = sorted({n for n in names if names.count(n) > 1})
  if dup:
    raise ValueError(f'class_names has duplicates: {dup}.')
  bad = [n for n in names if not n.strip() or LABEL_SEPARATOR in n]
  if bad:
    raise ValueError(f'class_names {bad} must be non-empty and free of '
                     f'{LABEL_SEPARATOR!r}.')
  return names


def list_folder_split(root: str, split: str,
                      class_names: Sequence[str]) -> Listing:
  """Single-label listing of root/split against a fixed class list."""
  class_names = _check_class_names(class_names)
  split_dir = _split_dir(root, split)
  present = class_folders(root, split)
  unknown = [c for c in present if c not in class_names]
  if unknown:
    raise ValueError(
        f'Class folder(s) {unknown} in {split_dir!r} are not in the class '
        f'list {list(class_names)} (taken from the train split or '
        'class_names); rename or remove them, or pass class_names.')
  files, labels = [], []
  for name in present:
    class_dir = os.path.join(split_dir, name)
    for f in _visible(os.listdir(class_dir)):
      path = os.path.join(class_dir, f)
      if f.lower().endswith(IMAGE_EXTENSIONS) and os.path.isfile(path):
        files.append(path)
        labels.append(class_names.index(name))
  if not files:
    raise ValueError(f'Image folder {split_dir!r} has no class folders with '
                     f'{"/".join(IMAGE_EXTENSIONS)} images; expected '
                     f'{split_dir}/<class>/<image>.')
  return Listing(tuple(files), np.asarray(labels, np.int32), None,
                 class_names)


def csv_path(root: str, split: str, labels_csv: str) -> str:
  """The labels CSV of `split`: '{split}' is substituted; relative paths are
  inside root/split."""
  name = labels_csv.replace('{split}', split)
  return name if os.path.isabs(name) else os.path.join(root, split, name)


def read_labels_csv(path: str) -> list[tuple[int, str, tuple[str, ...]]]:
  """Rows (line number, image path, label names) of a multi-label CSV."""
  if not os.path.isfile(path):
    raise ValueError(f'Labels CSV {path!r} does not exist; expected a file '
                     'with header "path,labels" and rows "img.jpg,cat;dog".')
  with open(path, newline='', encoding='utf-8') as f:
    rows = list(csv.reader(f))
  if not rows or tuple(c.strip().lower() for c in rows[0]) != CSV_HEADER:
    raise ValueError(f'Labels CSV {path!r} must start with the header row '
                     f'"path,labels", got {rows[0] if rows else "nothing"}.')
  base = os.path.dirname(path)
  out, seen = [], {}
  for line, row in enumerate(rows[1:], start=2):
    if not row:
      continue
    if len(row) != 2 or not row[0].strip():
      raise ValueError(f'{path}:{line}: expected "path,label1;label2", got '
                       f'{row!r}.')
    rel = row[0].strip()
    file = rel if os.path.isabs(rel) else os.path.join(base, rel)
    if file in seen:
      raise ValueError(f'{path}:{line}: {rel!r} already listed on line '
                       f'{seen[file]}.')
    seen[file] = line
    names = tuple(dict.fromkeys(
        n.strip() for n in row[1].split(LABEL_SEPARATOR) if n.strip()))
    out.append((line, file, names))
  if not out:
    raise ValueError(f'Labels CSV {path!r} lists no images.')
  return out


def csv_class_names(path: str) -> tuple[str, ...]:
  """Sorted union of the label names in a multi-label CSV."""
  names = sorted({n for _, _, ns in read_labels_csv(path) for n in ns})
  if not names:
    raise ValueError(f'Labels CSV {path!r} has no label at all; pass '
                     'class_names.')
  return tuple(names)


def list_csv_split(path: str, class_names: Sequence[str]) -> Listing:
  """Multi-label listing from a labels CSV against a fixed class list."""
  class_names = _check_class_names(class_names)
  index = {n: i for i, n in enumerate(class_names)}
  rows = read_labels_csv(path)
  khot = np.zeros((len(rows), len(class_names)), np.float32)
  files = []
  for k, (line, file, names) in enumerate(rows):
    unknown = [n for n in names if n not in index]
    if unknown:
      raise ValueError(f'{path}:{line}: label(s) {unknown} are not in the '
                       f'class list {list(class_names)}.')
    if not os.path.isfile(file):
      raise ValueError(f'{path}:{line}: image {file!r} does not exist.')
    khot[k, [index[n] for n in names]] = 1.0
    files.append(file)
  labels = np.where(khot.any(1), khot.argmax(1), -1).astype(np.int32)
  return Listing(tuple(files), labels, khot, class_names)


def list_split(root: str, split: str, class_names: Sequence[str] | None = None,
               class_split: str = 'train', labels_csv: str = '') -> Listing:
  """Listing of root/split; see the module docstring for the rules."""
  if labels_csv:
    if class_names is None:
      class_names = csv_class_names(csv_path(root, class_split, labels_csv))
    return list_csv_split(csv_path(root, split, labels_csv), class_names)
  if class_names is None:
    if not os.path.isdir(os.path.join(root, class_split)):
      raise ValueError(
          f'The class list comes from {os.path.join(root, class_split)!r}, '
          'which does not exist; pass class_names=[...] or class_split=.')
    class_names = class_folders(root, class_split)
    if not class_names:
      raise ValueError(f'{os.path.join(root, class_split)!r} has no class '
                       'folders; expected <class>/<image> below it.')
  return list_folder_split(root, split, class_names)


def to_float_rgb(img: Image.Image) -> np.ndarray:
  """Any PIL image -> [H, W, 3] float32 in [0, 1].

  8-bit modes (L, LA, P, PA, RGB, RGBA, CMYK, YCbCr, 1, ...) go through
  PIL's convert('RGB') (alpha is dropped, palettes expanded, CMYK converted).
  16-bit grey (I;16*, and I as PIL opens some 16-bit PNGs) is divided by
  65535, so full scale is 1.0 rather than clipped at 255.
  """
  if img.mode in _HIGH_BIT_MODES:
    grey = np.asarray(img, np.float32) / _HIGH_BIT_MODES[img.mode]
    if grey.min() < 0 or grey.max() > 1:
      raise ValueError(f'mode {img.mode} image with values outside '
                       f'[0, 65535] (range {grey.min() * 65535:.0f} .. '
                       f'{grey.max() * 65535:.0f}).')
    return np.repeat(grey[..., None], 3, axis=-1)
  if img.mode == 'F':
    raise ValueError('floating-point (mode F) images have no defined range; '
                     'convert them to 8- or 16-bit PNG.')
  return np.asarray(img.convert('RGB'), np.float32) / 255.0


def _float_channels(rgb: np.ndarray) -> list[Image.Image]:
  """[H, W, 3] float32 -> three mode 'F' PIL images (16-bit sources)."""
  return [Image.fromarray(np.ascontiguousarray(rgb[..., c]), 'F')
          for c in range(3)]


def load_image(path: str, size: int, crop_fraction: float = 1.0,
               box_fn=None) -> np.ndarray:
  """Decodes `path` to [size, size, 3] float32 in [0, 1] with PIL.

  Args:
    path: image file.
    size: output height = width.
    crop_fraction: without `box_fn`, the evaluation crop
      `crop.pil_resize_small_crop`: the shorter side is resized to
      size / crop_fraction and the centre size x size is cropped (big_vision's
      resize_small(256) | central_crop(224) is crop_fraction 0.875).
    box_fn: optional (height, width) -> (top, left, box_h, box_w) in pixels of
      the full-resolution image; that box is resized to size x size (the
      Inception crop on the decoded image).

  Returns:
    [size, size, 3] float32 in [0, 1].
  """
  with Image.open(path) as img:
    img.load()
    w, h = img.size
    high_bit = img.mode in _HIGH_BIT_MODES
    planes = (_float_channels(to_float_rgb(img)) if high_bit else
              [img if img.mode == 'RGB' else img.convert('RGB')])
    if box_fn is not None:
      top, left, bh, bw = (float(v) for v in box_fn(h, w))
      box = (left, top, left + bw, top + bh)
      planes = [p.resize((size, size), Image.BILINEAR, box=box)
                for p in planes]
    else:
      planes = [crop.pil_resize_small_crop(p, (size, size), crop_fraction,
                                           Image.BILINEAR) for p in planes]
    if high_bit:
      out = np.stack([np.asarray(p, np.float32) for p in planes], axis=-1)
      return np.clip(out, 0.0, 1.0)
    return np.asarray(planes[0], np.float32) / 255.0


def fill_unreadable(ok: np.ndarray) -> np.ndarray:
  """Row to use for each row of a batch: itself if ok, else the next ok row
  (cyclically). Raises ValueError when no row is ok."""
  ok = np.asarray(ok, bool)
  good = np.flatnonzero(ok)
  if not len(good):
    raise ValueError('every image of the batch is unreadable.')
  nxt = np.searchsorted(good, np.arange(len(ok))) % len(good)
  return np.where(ok, np.arange(len(ok)), good[nxt])


class UnreadableTracker:
  """Counts unreadable images of a split; fails when too many are unreadable.

  Attributes:
    name: input name for messages.
    where: the folder / data set for messages.
    size: number of files in the split (distinct files are counted), or None
      for a stream (every image read counts).
    max_fraction: raise once more than this fraction of the images tried are
      unreadable (1.0 = never raise).
    min_checked: images to try before the first check (at most `size`).
  """

  def __init__(self, name: str, where: str, size: int | None,
               max_fraction: float, min_checked: int = MIN_CHECKED):
    if not 0.0 <= max_fraction <= 1.0:
      raise ValueError(f'max_unreadable_fraction={max_fraction} must be in '
                       '[0, 1].')
    self.name, self.where, self.max_fraction = name, where, max_fraction
    self.size = size
    self.min_checked = min(min_checked, size) if size else min_checked
    self.tried = np.zeros(size or 0, bool)
    self.bad = np.zeros(size or 0, bool)
    self.stream_tried = self.stream_bad = 0
    self.first_bad: tuple[str, str] | None = None

  @property
  def num_bad(self) -> int:
    return self.stream_bad if self.size is None else int(self.bad.sum())

  @property
  def num_tried(self) -> int:
    return self.stream_tried if self.size is None else int(self.tried.sum())

  def record_stream(self, ok, names) -> None:
    """Records a batch of stream images (ok: [n] bool, names: [n] str)."""
    ok = np.asarray(ok, bool)
    self.stream_tried += len(ok)
    self.stream_bad += int((~ok).sum())
    if not ok.all():
      if self.first_bad is None:
        self.first_bad = (names[int(np.flatnonzero(~ok)[0])], '')
      logging.warning('%s: skipped %d unreadable image(s) so far; first: %s',
                      self.name, self.stream_bad, self.first_bad[0])
    self.check()

  def record(self, indices, ok, paths, errors=None) -> None:
    """Records attempts at files `indices` (ok: [n] bool) and checks."""
    indices = np.asarray(indices, np.int64)
    ok = np.asarray(ok, bool)
    new_bad = indices[~ok & ~self.bad[indices]]
    self.tried[indices] = True
    self.bad[indices[~ok]] = True
    for k, i in enumerate(np.unique(new_bad)):
      err = errors.get(int(i), '') if errors else ''
      if self.first_bad is None:
        self.first_bad = (paths[i], err)
      if k == 0:
        logging.warning('%s: skipped %d unreadable image(s) so far; first: %s '
                        '(latest: %s %s)', self.name, self.num_bad,
                        self.first_bad[0], paths[i], err)
    self.check()

  def check(self) -> None:
    tried, bad = self.num_tried, self.num_bad
    if tried < self.min_checked or not bad:
      return
    if bad > self.max_fraction * tried:
      path, err = self.first_bad
      raise ValueError(
          f'{self.name}: {bad} of the {tried} images read so far in '
          f'{self.where!r} are unreadable (more than max_unreadable_fraction='
          f'{self.max_fraction}); first: {path} {err}'.rstrip())
