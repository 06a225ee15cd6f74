# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Checks a source checkpoint before a warm-started job touches anything.

Fine-tuning, linear probing, distillation and LiT load a pretraining
checkpoint through paxml's `init_from_checkpoint_rules`. paxml only looks at it
after it has created the job directory and compiled the model, and a missing
or mismatched checkpoint then fails deep inside orbax. `validate_source` runs
from the experiment's `validate()` (before paxml writes anything) and raises a
ValueError naming the path and the first mismatch instead.

On disk (paxml + orbax): `<job_log_dir>/checkpoints/checkpoint_%08d/state/`
holds one tensorstore array per variable, `mdl_vars.params.<a>.<b>...`, whose
`.zarray` JSON records its shape.
"""

from __future__ import annotations

import json
import os
import re
from typing import Mapping, Sequence

import jax
from praxis import base_hyperparams
from praxis import base_layer

_CKPT = re.compile(r'^checkpoint_(\d{8})$')


def checkpoint_dir(job_log_dir: str) -> str:
  """`job_log_dir/checkpoints` (or the path itself if it is that folder)."""
  path = os.fspath(job_log_dir)
  if os.path.basename(os.path.normpath(path)) == 'checkpoints':
    return path
  return os.path.join(path, 'checkpoints')


def available_steps(ckpt_dir: str) -> list[int]:
  if not os.path.isdir(ckpt_dir):
    return []
  return sorted(int(m.group(1)) for name in os.listdir(ckpt_dir)
                if (m := _CKPT.match(name))
                and os.path.isdir(os.path.join(ckpt_dir, name, 'state')))


def resolve_step(job_log_dir: str, step: int | None) -> tuple[str, int]:
  """The checkpoints folder and the step to load (latest when None).

  Raises:
    ValueError: no such folder, no checkpoint in it, or no such step.
  """
  if not job_log_dir:
    raise ValueError(
        "No source checkpoint given: set the experiment's PRETRAIN_DIR (a "
        "pretraining job_log_dir), e.g. --fdl.PRETRAIN_DIR='\"runs/pretrain\"'.")
  ckpt_dir = checkpoint_dir(job_log_dir)
  steps = available_steps(ckpt_dir)
  if not steps:
    raise ValueError(
        f'No checkpoint found in {ckpt_dir!r}: expected checkpoint_%08d/state '
        'folders written by a paxml training job.')
  if step is None:
    return ckpt_dir, steps[-1]
  if step not in steps:
    raise ValueError(f'Checkpoint step {step} not found in {ckpt_dir!r}; '
                     f'available steps: {steps}.')
  return ckpt_dir, step


def stored_shapes(ckpt_dir: str, step: int) -> dict[str, tuple[int, ...]]:
  """{'params/a/b': shape} of the model variables stored at `step`."""
  state = os.path.join(ckpt_dir, f'checkpoint_{step:08d}', 'state')
  shapes = {}
  for name in os.listdir(state):
    if not name.startswith('mdl_vars.params.'):
      continue
    zarray = os.path.join(state, name, '.zarray')
    if os.path.exists(zarray):
      with open(zarray) as f:
        shape = tuple(json.load(f)['shape'])
      shapes[name[len('mdl_vars.'):].replace('.', '/')] = shape
  return shapes


def model_shapes(model_p, input_specs) -> dict[str, tuple[int, ...]]:
  """{'params/a/b': shape} of a model config, by abstract initialisation."""
  model = base_hyperparams.instantiate(model_p)
  with base_layer.JaxContext.new_context():
    var_hparams = model.abstract_init_with_metadata(input_specs)
  leaves, _ = jax.tree_util.tree_flatten_with_path(
      var_hparams, is_leaf=lambda x: isinstance(x, base_layer.WeightHParams))
  shapes = {}
  for path, hparams in leaves:
    name = '/'.join(str(getattr(k, 'key', getattr(k, 'name', k)))
                    for k in path)
    shapes[name] = tuple(hparams.shape)
  return shapes


def validate_source(
    job_log_dir: str,
    step: int | None,
    target_shapes: Mapping[str, tuple[int, ...]],
    load_rules: Sequence[tuple[str, str]],
    ignore_rules: Sequence[str] = (),
) -> tuple[str, int]:
  """Checks that `load_rules` find every variable they map, shape for shape.

  Args:
    job_log_dir: the source job's log dir (or its checkpoints folder).
    step: checkpoint step, None for the latest.
    target_shapes: variable shapes of the job being started.
    load_rules: paxml (target_regex, source_format) pairs.
    ignore_rules: target regexes left to their initialisers.

  Returns:
    (checkpoints folder, step).

  Raises:
    ValueError: naming the path, the variable and both shapes.
  """
  ckpt_dir, step = resolve_step(job_log_dir, step)
  stored = stored_shapes(ckpt_dir, step)
  loaded = 0
  for name, shape in sorted(target_shapes.items()):
    if any(re.fullmatch(r, name) for r in ignore_rules):
      continue
    for regex, fmt in load_rules:
      if (m := re.fullmatch(regex, name)) is None:
        continue
      source = fmt.format(*m.groups())
      if source not in stored:
        raise ValueError(
            f'Checkpoint {ckpt_dir!r} step {step} does not match this '
            f'experiment: it has no variable {source!r} (needed for '
            f'{name!r}, shape {shape}). Is it from another model?')
      if stored[source] != tuple(shape):
        raise ValueError(
            f'Checkpoint {ckpt_dir!r} step {step} does not match this '
            f'experiment: {source!r} has shape {stored[source]} there but '
            f'{name!r} needs {tuple(shape)}.')
      loaded += 1
      break
  if not loaded:
    raise ValueError(f'No variable of this experiment is loaded from '
                     f'{ckpt_dir!r} by the rules {list(load_rules)}.')
  return ckpt_dir, step


def abstract_input_specs(specs_provider_p):
  return base_hyperparams.instantiate(specs_provider_p).get_input_specs()


__all__ = ['available_steps', 'checkpoint_dir', 'model_shapes',
           'resolve_step', 'stored_shapes', 'validate_source',
           'abstract_input_specs']


def read_variable(job_log_dir: str, name: str, step: int | None = None):
  """One stored model variable as a numpy array ('params/a/b' naming)."""
  import tensorstore as ts  # pylint: disable=g-import-not-at-top
  ckpt_dir, step = resolve_step(job_log_dir, step)
  path = os.path.join(ckpt_dir, f'checkpoint_{step:08d}', 'state',
                      'mdl_vars.' + name.replace('/', '.'))
  if not os.path.isdir(path):
    raise ValueError(f'No variable {name!r} in {ckpt_dir!r} step {step}.')
  spec = {'driver': 'zarr', 'kvstore': {'driver': 'file', 'path': path}}
  return ts.open(spec).result().read().result()
