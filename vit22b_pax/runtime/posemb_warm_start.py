# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Warm starts at another resolution: the position embedding resampled once.

Fine-tuning at a new resolution changes the patch grid. big_vision resamples
the learned position embedding once, when it loads the source checkpoint
(`vit.load` -> `resample_posemb`, scipy zoom, order 1), and then trains a
full-resolution table; timm does the same in `checkpoint_filter_fn`
(bicubic, antialiased). `PosembResamplingTask` does this through paxml's
warm-start hook: it is a `SingleTask` whose `apply_init_checkpoint_rules`
first applies the ordinary loading rules (which ignore the position
embedding: its shape differs), then reads the source table from the same
checkpoint, resamples it to the new grid (`vit22b_pax.core.posemb`) and
puts it into the train state with the target variable's sharding. paxml
calls the hook only when the job starts without a checkpoint of its own, so
a resumed job keeps its trained table.

Recipes set it up with `with_posemb_resampling(task_p, loads)`; each
`PosembLoad` names the target variable, the source variable and both grids.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

import fiddle as fdl
import jax
import numpy as np
from paxml import tasks_lib
from paxml import train_states
from praxis import pax_fiddle
from praxis import py_utils

from vit22b_pax.runtime import checkpoints
from vit22b_pax.core import posemb as posemb_lib

NestedMap = py_utils.NestedMap


@dataclasses.dataclass(frozen=True)
class PosembLoad:
  """One position-embedding table loaded at another grid.

  Attributes:
    target: the new model's variable, e.g. 'params/network/pos_emb'
      ([1, rows*cols, D]).
    source: the source checkpoint's variable.
    source_grid: (rows, cols) of the source table.
    target_grid: (rows, cols) of the target table.
    method: 'zoom' (big_vision) or 'bicubic' (timm), see `core.posemb`.
  """

  target: str
  source: str
  source_grid: tuple[int, int]
  target_grid: tuple[int, int]
  method: str = 'zoom'

  def __post_init__(self):
    if self.method not in posemb_lib.METHODS:
      raise ValueError(f'Unknown position-embedding resampling '
                       f'{self.method!r}; expected one of '
                       f'{posemb_lib.METHODS}.')
    for name in ('source_grid', 'target_grid'):
      grid = tuple(getattr(self, name))
      if len(grid) != 2 or min(grid) <= 0:
        raise ValueError(f'{name} {grid} must be two positive ints.')
      object.__setattr__(self, name, tuple(int(v) for v in grid))


def _get(tree, name: str):
  for key in name.split('/'):
    tree = tree[key]
  return tree


def _set(tree, name: str, value) -> None:
  keys = name.split('/')
  for key in keys[:-1]:
    tree = tree[key]
  tree[keys[-1]] = value


class PosembResamplingTask(tasks_lib.SingleTask):
  """SingleTask that also loads position embeddings resampled to a new grid.

  Attributes:
    posemb_loads: the tables to load from the (single) warm-start source and
      resample; their targets must be ignored by the loading rules.
  """

  posemb_loads: Sequence[PosembLoad] = ()

  def apply_init_checkpoint_rules(
      self, train_state, train_state_provenance,
      train_state_partition_specs=None, global_mesh=None,
      checkpoint_type=tasks_lib.CheckpointType.FLAX):
    train_state, provenance, update_opt_states = (
        super().apply_init_checkpoint_rules(
            train_state, train_state_provenance,
            train_state_partition_specs=train_state_partition_specs,
            global_mesh=global_mesh, checkpoint_type=checkpoint_type))
    rules = self.train.init_from_checkpoint_rules or {}
    if not self.posemb_loads or not rules:
      return train_state, provenance, update_opt_states
    if len(rules) != 1:
      raise ValueError(f'posemb_loads need exactly one warm-start source, got '
                       f'{sorted(rules)}.')
    (ckpt_dir, rule), = rules.items()
    ckpt = checkpoints.resolve(ckpt_dir, rule.step)
    mdl_vars = train_state.mdl_vars
    prov_vars = provenance.mdl_vars
    for load in self.posemb_loads:
      value = resampled_table(ckpt, load)
      leaf = _get(mdl_vars, load.target)
      if tuple(leaf.shape) != value.shape:
        raise ValueError(
            f'{load.target!r} has shape {tuple(leaf.shape)} in this model but '
            f'the {load.source_grid} -> {load.target_grid} resampling gives '
            f'{value.shape}.')
      value = value.astype(leaf.dtype)
      sharding = getattr(leaf, 'sharding', None)
      if sharding is not None:
        new = jax.make_array_from_callback(value.shape, sharding,
                                           lambda idx, v=value: v[idx])
      else:
        new = jax.numpy.asarray(value)
      _set(mdl_vars, load.target, new)
      _set(prov_vars, load.target, train_states.TensorProvenance(
          checkpoint_path=str(ckpt_dir), checkpoint_step=ckpt.step))
    return (train_state.replace(mdl_vars=mdl_vars), provenance,
            update_opt_states)


def resampled_table(ckpt: checkpoints.Checkpoint,
                    load: PosembLoad) -> np.ndarray:
  """The source table of `load` read from `ckpt` and resampled.

  Raises:
    ValueError: the source variable is missing or not a table of its grid.
  """
  stored = checkpoints.variables(ckpt)
  if load.source not in stored:
    raise ValueError(f'Checkpoint {str(ckpt.path)!r} has no {load.source!r} '
                     'to resample.')
  shape = stored[load.source][0]
  want = math.prod(load.source_grid)
  if len(shape) != 3 or shape[:2] != (1, want):
    raise ValueError(
        f'Checkpoint {str(ckpt.path)!r}: {load.source!r} has shape {shape}, '
        f'not a [1, {want}, D] table of the grid {load.source_grid}.')
  table = checkpoints.read_variable(ckpt, load.source)
  return posemb_lib.resample_table(table, load.source_grid, load.target_grid,
                                   load.method)


def validate(task_p: Any, specs_p: pax_fiddle.Config) -> None:
  """Checks a task's position-embedding loads against its source checkpoint.

  For `ViT22BExperiment.validate()` (next to `warm_start.validate`), so a
  missing or mismatched table stops the job before paxml writes anything.

  Raises:
    ValueError: naming the checkpoint, the variable and both shapes.
  """
  loads = posemb_loads(task_p)
  rules = task_p.train.init_from_checkpoint_rules or {}
  if not loads or not rules:
    return
  if len(rules) != 1:
    raise ValueError(f'posemb_loads need exactly one warm-start source, got '
                     f'{sorted(rules)}.')
  from vit22b_pax.runtime import warm_start  # pylint: disable=g-import-not-at-top
  (ckpt_dir, rule), = rules.items()
  if ckpt_dir == warm_start.UNSET:
    checkpoints.resolve(None)  # Raises, saying how to give the source.
  ckpt = checkpoints.resolve(ckpt_dir, rule.step)
  shapes = warm_start.model_shapes(task_p.model, specs_p)
  for load in loads:
    value = resampled_table(ckpt, load)
    if load.target not in shapes:
      raise ValueError(f'This experiment has no variable {load.target!r} to '
                       'load a resampled position embedding into.')
    if tuple(shapes[load.target]) != value.shape:
      raise ValueError(
          f'{load.target!r} has shape {tuple(shapes[load.target])} here but '
          f'{load.source!r} of {str(ckpt.path)!r} resampled {load.source_grid}'
          f' -> {load.target_grid} has shape {value.shape}.')


def with_posemb_resampling(task_p: pax_fiddle.Config,
                           loads: Sequence[PosembLoad]) -> pax_fiddle.Config:
  """`task_p` (a SingleTask config) as a PosembResamplingTask, in place."""
  fdl.update_callable(task_p, PosembResamplingTask)
  task_p.posemb_loads = list(loads)
  return task_p


def posemb_loads(task_p: Any) -> list[PosembLoad]:
  """The position-embedding loads of a task config (none for SingleTask)."""
  return list(getattr(task_p, 'posemb_loads', None) or ())


__all__ = ['PosembLoad', 'PosembResamplingTask', 'posemb_loads',
           'resampled_table', 'validate', 'with_posemb_resampling']
