# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Named data sets for few-shot evaluation: a shot pool and a test set.

A spec names one data set:

  'procedural'       the embedded shapes (all 10 `procedural.SHAPES`, so a
                     model pretrained on 8 meets 2 unseen classes); pool =
                     the first `pool_examples` of its 'train' stream, test =
                     the first `test_examples` of the held-out 'test' stream.
  'fashion_mnist'    Debian `dataset-fashion-mnist` (10 classes): pool = the
                     first `pool_examples` training images, test = the first
                     `test_examples` test images.
  'folder:<root>'    `<root>/{train,test}/<class>/*.png|jpg` (label: the
                     folder's base name; classes: the train split's folders;
                     centre crop 0.875 as big_vision's few-shot resize 256 |
                     crop 224).

Both inputs make one pass (`reset_for_eval`), padded with
eval_sample_weights 0, in a fixed order, so the pool and the test set are the
same examples at every evaluation. Shots are drawn from the pool by
`fewshot.sample_shots`; a pool too small for the largest shot count fails with
the class and its count.
"""

from __future__ import annotations

import dataclasses
import os
import re

from praxis import base_input
from praxis import pax_fiddle

from vit22b_pax.data import folders
from vit22b_pax.data import inputs
from vit22b_pax.data import procedural
from vit22b_pax.data import real

InputConfig = pax_fiddle.Config[base_input.BaseInput]
NAMES = ('procedural', 'fashion_mnist', 'folder:<root>')
DEFAULT_POOL_EXAMPLES = 1000
DEFAULT_TEST_EXAMPLES = 1000


@dataclasses.dataclass(frozen=True)
class FewshotData:
  """Inputs of one few-shot data set.

  Attributes:
    name: label used in summaries ('fewshot/<name>/<k>shot').
    pool: input config of the shot pool.
    test: input config of the test set.
    num_classes: C.
  """
  name: str
  pool: InputConfig
  test: InputConfig
  num_classes: int


def _input_name(name: str, split: str) -> str:
  """'fewshot_<name>' for the test set (its summary folder is
  'eval_test_fewshot_<name>'), 'fewshot_<name>_pool' for the pool."""
  return f'fewshot_{name}' if split in ('test',) else f'fewshot_{name}_pool'


def parse_names(specs: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
  """'a,b' or ('a', 'b') -> ('a', 'b'); rejects empty and duplicates."""
  if isinstance(specs, str):
    specs = [s.strip() for s in specs.split(',')]
  specs = tuple(s for s in specs if s)
  if not specs:
    raise ValueError(f'No few-shot data set given; expected names from '
                     f'{NAMES}.')
  if len(set(specs)) != len(specs):
    raise ValueError(f'Few-shot data sets {specs} have duplicates.')
  return specs


def fewshot_data(spec: str, image_size: int, batch_size: int,
                 pool_examples: int = DEFAULT_POOL_EXAMPLES,
                 test_examples: int = DEFAULT_TEST_EXAMPLES,
                 fashion_mnist_dir: str = real.FASHION_MNIST_DIR,
                 seed: int = 0) -> FewshotData:
  """The pool and test inputs of one data set spec (see module docstring).

  Args:
    spec: 'procedural', 'fashion_mnist' or 'folder:<root>'.
    image_size: image side the model takes.
    batch_size: per-host batch size of feature extraction.
    pool_examples: shot pool size (0 = the whole split; finite data only).
    test_examples: test set size (0 = the whole split; finite data only).
    fashion_mnist_dir: folder of the Fashion-MNIST .gz files.
    seed: procedural data seed.

  Raises:
    ValueError: unknown spec, non-positive sizes, or a missing folder/file.
  """
  if batch_size <= 0 or image_size <= 0:
    raise ValueError(f'batch_size={batch_size} and image_size={image_size} '
                     'must be positive.')
  if pool_examples < 0 or test_examples < 0:
    raise ValueError(f'pool_examples={pool_examples} and test_examples='
                     f'{test_examples} must be >= 0.')
  common = dict(batch_size=batch_size, image_size=image_size,
                is_training=False, reset_for_eval=True,
                eval_loop_num_batches=-1)
  if spec == 'procedural':
    if not pool_examples or not test_examples:
      raise ValueError('The procedural data is infinite: give positive '
                       'pool_examples and test_examples.')
    k = len(procedural.SHAPES)
    make = lambda split, n: pax_fiddle.Config(
        inputs.ProceduralInput, name=_input_name(spec, split), split=split,
        num_classes=k, num_examples=n, seed=seed, **common)
    return FewshotData(spec, make('train', pool_examples),
                       make('test', test_examples), k)
  if spec == 'fashion_mnist':
    make = lambda split, n: pax_fiddle.Config(
        real.FashionMnistInput, name=_input_name(spec, split), split=split,
        data_dir=fashion_mnist_dir, num_classes=10, num_examples=n, **common)
    pool, test = make('train', pool_examples), make('test', test_examples)
    # Fail now (missing files) rather than at the first evaluation.
    for split in ('train', 't10k'):
      path = os.path.join(fashion_mnist_dir, f'{split}-labels-idx1-ubyte.gz')
      if not os.path.isfile(path):
        raise ValueError(f'Fashion-MNIST file {path!r} is missing '
                         '(apt-get install dataset-fashion-mnist).')
    return FewshotData(spec, pool, test, 10)
  if spec.startswith('folder:'):
    root = spec[len('folder:'):]
    if not root:
      raise ValueError("'folder:' needs a path, e.g. 'folder:/data/pets'.")
    # The class list is the train split's; the test split is checked
    # against it now (a foreign class folder is an error naming it).
    classes = folders.list_split(root, 'train').class_names
    folders.list_split(root, 'test', classes)
    name = re.sub(r'[^A-Za-z0-9_.-]', '_',
                  os.path.basename(os.path.normpath(root)))
    make = lambda split, n: pax_fiddle.Config(
        real.ImageFolderInput, name=_input_name(name, split), root=root,
        split=split, num_classes=len(classes), num_examples=n, **common)
    return FewshotData(name, make('train', pool_examples),
                       make('test', test_examples), len(classes))
  raise ValueError(f'Unknown few-shot data set {spec!r}; expected one of '
                   f'{NAMES}.')
