# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Data sources checked before a run writes anything.

`ViT22BExperiment.validate()` calls `check_inputs()` before the job directory
is locked or created, so a wrong `data_dir` stops the run in one line naming
the path, and leaves no job directory, log or checkpoint folder behind:

  * a data folder that does not exist (image-folder roots, Fashion-MNIST and
    TFDS `data_dir`s);
  * for image folders (`data/real.ImageFolderInput` and its tf.data twin):
    the listing every split's input will make (`data/folders.list_split`,
    read-only): a missing split folder, a split without images, a class
    folder outside the class list (e.g. in `test/` but not in `train/`), a
    bad labels CSV.

Remote paths (`gs://...`) are left to the inputs.
"""

from __future__ import annotations

import os
from typing import Any, Iterable

import fiddle as fdl

from vit22b_pax.data import folders
from vit22b_pax.data import real


class InputError(SystemExit):
  """A data source is unusable: exit status 1 with a one-line message and no
  traceback (Python prints a SystemExit's message to stderr)."""

  def __init__(self, message: str):
    super().__init__(f'Error: {message}')
    self.message = message


def _local(path: Any) -> bool:
  return isinstance(path, str) and bool(path) and '://' not in path


def _check_one(p: Any) -> None:
  cls = fdl.get_callable(p)
  name = getattr(p, 'name', None) or cls.__name__
  folder_input = isinstance(cls, type) and issubclass(cls,
                                                      real.ImageFolderInput)
  for field in ('root', 'data_dir'):
    path = getattr(p, field, None)
    if _local(path) and not os.path.isdir(path):
      what = 'data_dir' if folder_input or field == 'data_dir' else field
      raise ValueError(f'{what} {path!r} of input {name!r} does not exist.')
  if folder_input:
    if not _local(p.root):
      if not p.root:
        raise ValueError(f'Input {name!r} has no data_dir (image folder '
                         'root); pass the recipe\'s data_dir=.')
      return
    try:
      folders.list_split(p.root, p.split, p.class_names, p.class_split,
                         p.labels_csv)
    except ValueError as e:
      raise ValueError(f'{e} (input {name!r})') from None


def check_inputs(datasets: Iterable[Any]) -> None:
  """Checks the data sources of input configs (train and eval).

  Args:
    datasets: `pax_fiddle.Config`s of inputs.

  Raises:
    ValueError: one line naming the path and the input.
  """
  for p in datasets:
    if isinstance(p, fdl.Buildable):
      _check_one(p)
