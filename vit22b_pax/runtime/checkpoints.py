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
    train state's unpadded shapes), read as the JSON file it is: orbax's
    reader would enter a barrier of all processes, and these functions may
    run on one process only;
  * values are read with the tensorstore spec orbax itself builds, so per-array
    zarr and OCDBT checkpoints both work;
  * every stored array (model variables and optimizer states) is listed from
    orbax's own per-array record (`state/_sharding`);
  * a per-array zarr array is read only when every chunk of its chunk grid
    is on disk: tensorstore reads a missing chunk file as zeros, silently.

Variables are named as paxml's loading rules name them: 'params/network/w';
stored arrays as orbax names them on disk: 'mdl_vars.params.network.w',
'opt_states_0_2.m.params.network.w'.
"""

from __future__ import annotations

import base64
import dataclasses
import itertools
import json
import math
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


def metadata_path(ckpt: Checkpoint) -> epath.Path:
  """`checkpoint_N/metadata/metadata`: paxml's JSON metadata."""
  name = checkpoint_metadata.METADATA_ITEM_NAME
  return ckpt.path / name / name


def metadata(ckpt: Checkpoint) -> dict[str, Any]:
  """paxml's metadata of a checkpoint (version, train-state shapes).

  Raises:
    ValueError: missing or unreadable (naming the file).
  """
  path = metadata_path(ckpt)
  if not path.exists():
    raise ValueError(
        f'Checkpoint {str(ckpt.path)!r} has no paxml metadata '
        f'({str(path)!r}): it was not written by a paxml SPMD training job, '
        'or it is incomplete.')
  try:
    meta = json.loads(path.read_text())
  except (ValueError, OSError) as e:
    raise ValueError(f'Checkpoint {str(ckpt.path)!r}: unreadable paxml '
                     f'metadata {str(path)!r} ({type(e).__name__}: {e}).'
                     ) from e
  if not isinstance(meta, dict):
    raise ValueError(f'Checkpoint {str(ckpt.path)!r}: unreadable paxml '
                     f'metadata {str(path)!r} (not a JSON object).')
  return meta


def variables(ckpt: Checkpoint, collection: str = 'mdl_vars'
              ) -> dict[str, tuple[tuple[int, ...], str]]:
  """{'params/a/b': (shape, dtype)} of one part of a checkpoint's train state.

  Args:
    ckpt: the checkpoint.
    collection: 'mdl_vars' (model variables) or 'opt_states'.

  Raises:
    ValueError: the checkpoint has no readable paxml metadata.
  """
  try:
    tree = metadata(ckpt)['train_state_metadata'][collection]
  except (KeyError, TypeError) as e:
    raise ValueError(f'Checkpoint {str(ckpt.path)!r}: unreadable paxml '
                     f'metadata ({type(e).__name__}: {e}).') from e
  out = {}
  for name, leaf in _flatten(tree).items():
    if isinstance(leaf, Mapping) and 'unpadded_shape' in leaf:
      out[name] = (tuple(leaf['unpadded_shape']), str(leaf['dtype']))
  return out


def _array_name(collection: str, name: str) -> str:
  return '.'.join([collection] + name.split('/'))


_SHARDING_FILE = '_sharding'


def stored_arrays(ckpt: Checkpoint) -> list[str]:
  """Names of every array in a checkpoint's train state, sorted.

  From orbax's `state/_sharding` record (one entry per saved jax.Array, the
  key being the array's on-disk name in base64), else from the per-array
  folders holding a `.zarray`.

  Raises:
    ValueError: the state folder is missing or its record is unreadable.
  """
  state = ckpt.state_dir
  if not state.is_dir():
    raise ValueError(f'Checkpoint {str(ckpt.path)!r} has no state folder '
                     f'({str(state)!r}).')
  record = state / _SHARDING_FILE
  if record.exists():
    try:
      keys = json.loads(record.read_text())
      return sorted(base64.b64decode(k).decode() for k in keys)
    except (ValueError, TypeError, UnicodeDecodeError) as e:
      raise ValueError(f'Checkpoint {str(ckpt.path)!r}: unreadable array '
                       f'record {str(record)!r} ({e}).') from e
  return sorted(p.name for p in state.iterdir()
                if p.is_dir() and (p / '.zarray').exists())


def zarr_metadata(ckpt: Checkpoint, array: str) -> dict[str, Any] | None:
  """The `.zarray` of a per-array zarr array (None for OCDBT checkpoints).

  Raises:
    ValueError: the `.zarray` file is missing or unreadable (naming it).
  """
  from orbax.checkpoint import type_handlers  # pylint: disable=g-import-not-at-top
  if type_handlers.is_ocdbt_checkpoint(ckpt.state_dir):
    return None
  path = ckpt.state_dir / array / '.zarray'
  if not path.exists():
    raise ValueError(f'Checkpoint array {array!r} has no zarr metadata: '
                     f'{str(path)!r} is missing.')
  try:
    meta = json.loads(path.read_text())
    shape, chunks = list(meta['shape']), list(meta['chunks'])
  except (ValueError, KeyError, TypeError) as e:
    raise ValueError(f'Unreadable zarr metadata {str(path)!r} ({e}).') from e
  if len(shape) != len(chunks):
    raise ValueError(f'Unreadable zarr metadata {str(path)!r}: shape {shape} '
                     f'and chunks {chunks} differ in rank.')
  return meta


def missing_chunks(ckpt: Checkpoint, array: str) -> list[epath.Path]:
  """Chunk files of a zarr array's chunk grid that are not on disk.

  Empty for OCDBT checkpoints (one key-value store, no per-chunk files).

  Raises:
    ValueError: the array's `.zarray` is missing or unreadable.
  """
  meta = zarr_metadata(ckpt, array)
  if meta is None:
    return []
  sep = meta.get('dimension_separator') or '.'
  grid = [max(1, math.ceil(s / c)) if c else 1
          for s, c in zip(meta['shape'], meta['chunks'])]
  folder = ckpt.state_dir / array
  present = {p.name for p in folder.iterdir()}
  keys = (sep.join(map(str, idx)) for idx in itertools.product(
      *[range(g) for g in grid])) if grid else iter(['0'])
  return [folder / k for k in keys if k not in present]


def read_array(ckpt: Checkpoint, array: str) -> np.ndarray:
  """One stored array as numpy, by its on-disk name (`stored_arrays`).

  Raises:
    ValueError: no such array, its zarr metadata is missing, or a chunk file
      is missing (instead of reading that chunk as zeros); the message names
      the path.
  """
  import tensorstore as ts  # pylint: disable=g-import-not-at-top
  from orbax.checkpoint import type_handlers  # pylint: disable=g-import-not-at-top
  names = stored_arrays(ckpt)
  if array not in names:
    raise ValueError(f'No array {array!r} in checkpoint {str(ckpt.path)!r}.')
  missing = missing_chunks(ckpt, array)
  if missing:
    raise ValueError(f'Checkpoint array {array!r} is damaged: chunk file '
                     f'{str(missing[0])!r} is missing ({len(missing)} '
                     'missing); it would read as zeros.')
  ocdbt = type_handlers.is_ocdbt_checkpoint(ckpt.state_dir)
  spec = type_handlers.get_tensorstore_spec(
      str(ckpt.state_dir), name=array, use_ocdbt=ocdbt)
  try:
    store = ts.open(ts.Spec(spec), open=True,
                    context=type_handlers.get_ts_context(ocdbt)).result()
    return np.asarray(store.read().result())
  except ValueError as e:
    raise ValueError(f'Checkpoint array {str(ckpt.state_dir / array)!r} is '
                     f'unreadable: {e}') from e


def read_variable(ckpt: Checkpoint, name: str,
                  collection: str = 'mdl_vars') -> np.ndarray:
  """One stored model variable as numpy (unpadded), e.g.
  read_variable(ckpt, 'params/network/w').

  Raises:
    ValueError: no such variable in the checkpoint, or it is damaged (naming
      the path).
  """
  known = variables(ckpt, collection)
  if name not in known:
    close = [n for n in known if n.split('/')[-1] == name.split('/')[-1]]
    raise ValueError(f'No variable {name!r} in checkpoint '
                     f'{str(ckpt.path)!r}' +
                     (f'; similar: {close[:5]}.' if close else '.'))
  value = read_array(ckpt, _array_name(collection, name))
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
