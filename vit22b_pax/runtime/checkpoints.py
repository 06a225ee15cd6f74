# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The one place that lists, describes and reads a job's paxml checkpoints.

Everything goes through `etils.epath`, so a job directory may be a local path
or any epath filesystem (`gs://...`); nothing here uses `os.listdir` or assumes
the on-disk array layout:

  * listing uses paxml's own rules (`checkpoint_paths`): `checkpoint_%08d`
    folders, orbax's temporary (uncommitted) folders skipped;
  * variable names, shapes and dtypes come from the metadata paxml writes next
    to every checkpoint (`checkpoint_metadata`: `metadata/metadata`, the
    train state's unpadded shapes);
  * values are read with the tensorstore spec orbax itself builds, so per-array
    zarr and OCDBT checkpoints both work.

Variables are named as paxml's loading rules name them: 'params/network/w'.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, Mapping, Sequence

from etils import epath
import numpy as np
from paxml import checkpoint_metadata
from paxml import checkpoint_paths

_STATE = 'state'


@dataclasses.dataclass(frozen=True)
class Checkpoint:
  """One committed checkpoint of a job.

  Attributes:
    step: its training step.
    path: its `checkpoint_%08d` folder.
  """

  step: int
  path: epath.Path

  @property
  def state_dir(self) -> epath.Path:
    return self.path / _STATE


def checkpoint_dir(job_log_dir: epath.PathLike) -> epath.Path:
  """`<job_log_dir>/checkpoints` (or the path itself if it is that folder)."""
  path = epath.Path(job_log_dir)
  return path if path.name == 'checkpoints' else path / 'checkpoints'


def list_checkpoints(job_log_dir: epath.PathLike) -> list[Checkpoint]:
  """Committed checkpoints of a job, oldest first (empty if none)."""
  ckpt_dir = checkpoint_dir(job_log_dir)
  if not ckpt_dir.exists():
    return []
  found = []
  for path in ckpt_dir.iterdir():
    if (not checkpoint_paths.is_checkpoint_asset(path) or
        checkpoint_paths.is_tmp_checkpoint_asset(path) or not path.is_dir()):
      continue
    found.append(Checkpoint(
        checkpoint_paths.get_step_from_checkpoint_asset(path), path))
  return sorted(found, key=lambda c: c.step)


def steps(job_log_dir: epath.PathLike) -> list[int]:
  """Steps of the committed checkpoints, ascending."""
  return [c.step for c in list_checkpoints(job_log_dir)]


def resolve(job_log_dir: epath.PathLike | None,
            step: int | None = None) -> Checkpoint:
  """The checkpoint at `step` (None: the latest) of a job.

  Raises:
    ValueError: no job directory given, no checkpoint in it, or no such step.
  """
  if not job_log_dir:
    raise ValueError(
        'No source checkpoint given: pass the source run as the recipe\'s '
        'pretrain_dir argument (its job_log_dir), e.g. '
        '--fdl=config:fiddle_configs.finetune.linear_probe('
        'pretrain_dir="runs/pretrain").')
  ckpt_dir = checkpoint_dir(job_log_dir)
  found = list_checkpoints(job_log_dir)
  if not found:
    raise ValueError(
        f'No checkpoint found in {str(ckpt_dir)!r}: expected committed '
        'checkpoint_%08d folders written by a paxml training job.')
  if step is None:
    return found[-1]
  for ckpt in found:
    if ckpt.step == step:
      return ckpt
  raise ValueError(f'Checkpoint step {step} not found in {str(ckpt_dir)!r}; '
                   f'available steps: {[c.step for c in found]}.')


def _flatten(tree: Mapping[str, Any], prefix: str = '') -> dict[str, Any]:
  out = {}
  for key, value in tree.items():
    name = f'{prefix}/{key}' if prefix else str(key)
    if isinstance(value, Mapping) and '_array_metadata_tag' not in value:
      out.update(_flatten(value, name))
    else:
      out[name] = value
  return out


def variables(ckpt: Checkpoint, collection: str = 'mdl_vars'
              ) -> dict[str, tuple[tuple[int, ...], str]]:
  """{'params/a/b': (shape, dtype)} of one part of a checkpoint's train state.

  Args:
    ckpt: the checkpoint.
    collection: 'mdl_vars' (model variables) or 'opt_states'.

  Raises:
    ValueError: the checkpoint has no readable paxml metadata.
  """
  if not checkpoint_metadata.metadata_exists(ckpt.path):
    raise ValueError(
        f'Checkpoint {str(ckpt.path)!r} has no paxml metadata '
        f'({checkpoint_metadata.METADATA_ITEM_NAME}/): it was not written by '
        'a paxml SPMD training job, or it is incomplete.')
  try:
    meta = checkpoint_metadata.restore_metadata(ckpt.path)
    tree = meta['train_state_metadata'][collection]
  except (KeyError, TypeError, ValueError, json.JSONDecodeError) as e:
    raise ValueError(f'Checkpoint {str(ckpt.path)!r}: unreadable paxml '
                     f'metadata ({type(e).__name__}: {e}).') from e
  out = {}
  for name, leaf in _flatten(tree).items():
    if isinstance(leaf, Mapping) and 'unpadded_shape' in leaf:
      out[name] = (tuple(leaf['unpadded_shape']), str(leaf['dtype']))
  return out


def _array_name(collection: str, name: str) -> str:
  return '.'.join([collection] + name.split('/'))


def read_variable(ckpt: Checkpoint, name: str,
                  collection: str = 'mdl_vars') -> np.ndarray:
  """One stored array as numpy, e.g. read_variable(ckpt, 'params/network/w').

  Raises:
    ValueError: no such variable in the checkpoint (naming the path).
  """
  import tensorstore as ts  # pylint: disable=g-import-not-at-top
  from orbax.checkpoint import type_handlers  # pylint: disable=g-import-not-at-top
  known = variables(ckpt, collection)
  if name not in known:
    close = [n for n in known if n.split('/')[-1] == name.split('/')[-1]]
    raise ValueError(f'No variable {name!r} in checkpoint '
                     f'{str(ckpt.path)!r}' +
                     (f'; similar: {close[:5]}.' if close else '.'))
  ocdbt = type_handlers.is_ocdbt_checkpoint(ckpt.state_dir)
  spec = type_handlers.get_tensorstore_spec(
      str(ckpt.state_dir), name=_array_name(collection, name),
      use_ocdbt=ocdbt)
  store = ts.open(ts.Spec(spec), open=True,
                  context=type_handlers.get_ts_context(ocdbt)).result()
  value = np.asarray(store.read().result())
  if tuple(value.shape) != known[name][0]:
    value = value[tuple(slice(0, s) for s in known[name][0])]
  return value


def match_rules(
    target_shapes: Mapping[str, Sequence[int]],
    stored: Mapping[str, tuple[tuple[int, ...], str]],
    load_rules: Sequence[tuple[str, str]],
    ignore_rules: Sequence[str] = (),
    where: str = 'the checkpoint',
) -> dict[str, str]:
  """Which stored variable each target variable loads, checked shape by shape.

  Args:
    target_shapes: {'params/...': shape} of the job being started.
    stored: `variables()` of the source checkpoint.
    load_rules: paxml (target_regex, source_format) pairs, first match wins.
    ignore_rules: target regexes left to their initialisers.
    where: how to name the source in errors.

  Returns:
    {target name: source name} of every loaded variable.

  Raises:
    ValueError: naming the source, the variable and both shapes, or saying
      that nothing is loaded at all.
  """
  mapping = {}
  for name, shape in sorted(target_shapes.items()):
    if any(re.fullmatch(r, name) for r in ignore_rules):
      continue
    for regex, fmt in load_rules:
      if (m := re.fullmatch(regex, name)) is None:
        continue
      source = fmt.format(*m.groups())
      if source not in stored:
        raise ValueError(
            f'{where} does not match this experiment: it has no variable '
            f'{source!r} (needed for {name!r}, shape {tuple(shape)}). Is it '
            'from another model?')
      if stored[source][0] != tuple(shape):
        raise ValueError(
            f'{where} does not match this experiment: {source!r} has shape '
            f'{stored[source][0]} there but {name!r} needs {tuple(shape)}.')
      mapping[name] = source
      break
  if not mapping:
    raise ValueError(f'No variable of this experiment is loaded from {where} '
                     f'by the rules {list(load_rules)}.')
  return mapping
