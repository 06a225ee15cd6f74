# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Class probabilities -> the 16 cue-conflict categories.

A 1000-way ImageNet head is mapped to the 16 "human" categories of Geirhos et
al. (ICLR 2019) as model-vs-human's `ImageNetProbabilitiesTo16ClassesMapping`
does: the score of a category is the MEAN probability of its ImageNet classes
(indices in `data/imagenet_to_16class.json`, source cited there), and the
decision is the arg-max category. A native 16-way head is used directly, its
outputs being the categories in sorted order.
"""

import functools
import importlib.util
import json
import os

import numpy as np

_DATA = os.path.join(os.path.dirname(__file__), 'data')

# The 16 categories, sorted (model-vs-human's
# `get_human_object_recognition_categories()`).
CATEGORIES = (
    'airplane', 'bear', 'bicycle', 'bird', 'boat', 'bottle', 'car', 'cat',
    'chair', 'clock', 'dog', 'elephant', 'keyboard', 'knife', 'oven', 'truck')


@functools.lru_cache(maxsize=None)
def imagenet_indices() -> dict[str, tuple[int, ...]]:
  """Returns {category: ImageNet-1k class indices} of the 16 categories."""
  with open(os.path.join(_DATA, 'imagenet_to_16class.json')) as f:
    data = json.load(f)['categories']
  return {c: tuple(data[c]['imagenet_indices']) for c in CATEGORIES}


@functools.lru_cache(maxsize=None)
def imagenet_wnids_by_category() -> dict[str, tuple[str, ...]]:
  """Returns {category: WNIDs} as listed by model-vs-human."""
  with open(os.path.join(_DATA, 'imagenet_to_16class.json')) as f:
    data = json.load(f)['categories']
  return {c: tuple(data[c]['wnids']) for c in CATEGORIES}


def imagenet2012_wnids() -> list[str]:
  """The 1000 ILSVRC-2012 WNIDs in canonical order (TFDS `labels.txt`).

  Read from the installed tensorflow_datasets package without importing it
  (importing TensorFlow is slow and not needed for a text file).
  """
  spec = importlib.util.find_spec('tensorflow_datasets')
  if spec is None or not spec.submodule_search_locations:
    raise ValueError('tensorflow_datasets is not installed; it provides '
                     'datasets/imagenet2012/labels.txt')
  path = os.path.join(spec.submodule_search_locations[0], 'datasets',
                      'imagenet2012', 'labels.txt')
  with open(path) as f:
    wnids = f.read().split()
  if len(wnids) != 1000:
    raise ValueError(f'{path}: expected 1000 WNIDs, got {len(wnids)}')
  return wnids


def imagenet_to_16(probs: np.ndarray) -> np.ndarray:
  """Aggregates ImageNet probabilities into the 16 categories.

  Args:
    probs: [B, 1000] class probabilities (softmax outputs).

  Returns:
    [B, 16] mean probability of each category's ImageNet classes, columns in
    `CATEGORIES` order.
  """
  probs = np.asarray(probs, np.float64)
  if probs.ndim != 2 or probs.shape[1] != 1000:
    raise ValueError(f'expected probabilities [B, 1000], got {probs.shape}')
  idx = imagenet_indices()
  return np.stack([probs[:, idx[c]].mean(axis=1) for c in CATEGORIES], axis=1)


def decide(probs: np.ndarray) -> list[str]:
  """Returns the chosen category per row of a 16- or 1000-way output.

  Args:
    probs: [B, 16] (native head, columns = sorted `CATEGORIES`) or [B, 1000]
      (ImageNet head, mapped by `imagenet_to_16`).
  """
  probs = np.asarray(probs)
  if probs.ndim != 2 or probs.shape[1] not in (16, 1000):
    raise ValueError('expected class scores [B, 16] (sorted cue-conflict '
                     f'categories) or [B, 1000] (ImageNet), got {probs.shape}')
  if not np.all(np.isfinite(probs)):
    raise ValueError('class scores contain NaN or inf')
  scores = imagenet_to_16(probs) if probs.shape[1] == 1000 else probs
  return [CATEGORIES[i] for i in np.argmax(scores, axis=1)]
