# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Runs a model on cue-conflict stimuli and writes model-vs-human responses.

The stimulus directory has the layout of model-vs-human's `cue-conflict`
dataset: one folder per shape category (the 16 categories), files named
`SHAPE<i>-TEXTURE<j>.png`. Every image is resized to the model's resolution
(bilinear), scaled to [-1, 1] and given to `predict_fn(images [B, H, W, 3])
-> probs [B, C]`; C = 1000 (ImageNet, mapped to the 16 categories by mean
probability) or C = 16 (native head, categories in sorted order). The
decisions are written as a responses CSV (`subj` = model name) that
`model_vs_human.read_responses` reads like a human observer's file.
"""

import csv
import os
from typing import Callable, Iterator

import numpy as np
from PIL import Image

from vit22b_pax.eval import decision_mapping
from vit22b_pax.eval import model_vs_human as mvh

PredictFn = Callable[[np.ndarray], np.ndarray]
_EXTENSIONS = ('.png', '.jpg', '.jpeg')


def list_stimuli(stimuli_dir: str) -> list[tuple[str, str, str]]:
  """Returns sorted (path, shape category, stimulus file name) tuples.

  Raises:
    ValueError: no stimuli, a folder that is not a category, or a file name
      that does not parse or whose shape disagrees with its folder.
  """
  if not os.path.isdir(stimuli_dir):
    raise ValueError(f'{stimuli_dir}: not a directory of stimuli')
  out = []
  for folder in sorted(os.listdir(stimuli_dir)):
    sub = os.path.join(stimuli_dir, folder)
    if not os.path.isdir(sub):
      continue  # e.g. LICENSE
    if folder not in decision_mapping.CATEGORIES:
      raise ValueError(f'{sub}: folder {folder!r} is not one of the 16 '
                       f'categories {decision_mapping.CATEGORIES}')
    for name in sorted(os.listdir(sub)):
      if not name.lower().endswith(_EXTENSIONS):
        continue
      path = os.path.join(sub, name)
      try:
        stim, shape, _ = mvh.parse_stimulus_name(name)
      except ValueError as e:
        raise ValueError(f'{path}: {e}') from None
      if shape != folder:
        raise ValueError(f'{path}: shape {shape!r} of the file name disagrees '
                         f'with its folder {folder!r}')
      out.append((path, shape, stim))
  if not out:
    raise ValueError(f'{stimuli_dir}: no <category>/SHAPE<i>-TEXTURE<j>.png '
                     'stimuli found')
  return out


def load_image(path: str, resolution: int) -> np.ndarray:
  """Reads an image as float32 [resolution, resolution, 3] in [-1, 1]."""
  with Image.open(path) as im:
    im = im.convert('RGB')
    if im.size != (resolution, resolution):
      im = im.resize((resolution, resolution), Image.BILINEAR)
    return np.asarray(im, np.float32) / 127.5 - 1.0


def _batches(items, batch_size) -> Iterator[list]:
  for i in range(0, len(items), batch_size):
    yield items[i:i + batch_size]


def run_stimuli(predict_fn: PredictFn, stimuli_dir: str, out_csv: str,
                model_name: str, resolution: int = 224,
                batch_size: int = 32) -> str:
  """Runs `predict_fn` on every stimulus and writes a responses CSV.

  Args:
    predict_fn: images float32 [B, H, W, 3] in [-1, 1] -> probabilities
      [B, 16] or [B, 1000].
    stimuli_dir: cue-conflict directory (`<category>/SHAPE<i>-TEXTURE<j>.png`).
    out_csv: responses file to write.
    model_name: the `subj` column (no commas).
    resolution: the model's input side length H = W.
    batch_size: images per `predict_fn` call.

  Returns:
    out_csv.
  """
  if not model_name or ',' in model_name or model_name.startswith('subject-'):
    raise ValueError(f'model_name {model_name!r} must be non-empty, without '
                     "commas, and not start with 'subject-' (humans)")
  stimuli = list_stimuli(stimuli_dir)
  rows = []
  for batch in _batches(stimuli, batch_size):
    images = np.stack([load_image(p, resolution) for p, _, _ in batch])
    probs = np.asarray(predict_fn(images))
    if probs.ndim != 2 or probs.shape[0] != len(batch):
      raise ValueError(f'predict_fn returned shape {probs.shape} for '
                       f'{len(batch)} images; expected [B, 16 or 1000]')
    for (_, shape, stim), decision in zip(
        batch, decision_mapping.decide(probs)):
      rows.append((shape, stim, decision))
  os.makedirs(os.path.dirname(os.path.abspath(out_csv)), exist_ok=True)
  with open(out_csv, 'w', newline='') as f:
    w = csv.writer(f)
    w.writerow(mvh.COLUMNS)
    for trial, (shape, stim, decision) in enumerate(rows, start=1):
      imagename = f'{trial:04d}_cc_dnn_0_{shape}_00_{stim}'
      w.writerow([model_name, 1, trial, 'NaN', decision, shape, 0, imagename])
  return out_csv
