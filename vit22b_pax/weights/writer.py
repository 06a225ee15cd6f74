# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Writes imported weights as a paxml checkpoint of a recipe's experiment.

The checkpoint is what a paxml training job of that experiment would write at
step 0 (integrity manifest included, `runtime/integrity.py`), through paxml's
own writer (`paxml.checkpoints.save_checkpoint`:
orbax, GDA for our pjit models, paxml's metadata with the train state's
shapes): the model variables are the imported ones, the optimizer states
are the learner's initial states (`SingleTask.create_train_state`). So
`vit22b_pax.runtime.checkpoints` lists and reads it, `restore_predict_fn`
restores it, every warm-started recipe loads it as its source, and a paxml
job of the same experiment pointed at the directory continues from it.
"""

from __future__ import annotations

import json
import math
from typing import Any, Mapping

from etils import epath
import jax
import jax.numpy as jnp
import numpy as np
from paxml import checkpoints as pax_checkpoints
from praxis import base_hyperparams
from praxis import base_layer
from praxis import pax_fiddle

from vit22b_pax.runtime import checkpoints
from vit22b_pax.runtime import experiment as experiment_lib
from vit22b_pax.runtime import integrity
from vit22b_pax.runtime import restore
from vit22b_pax.weights import layout

_HEAD = 'params/softmax/'


def _name(path) -> str:
  return '/'.join(str(getattr(k, 'key', getattr(k, 'name', k)))
                  for k in path)


def _stacked_name(name: str) -> tuple[str, str] | None:
  """'params/network/blocks/block/w_q' -> ('params/network/blocks_', 'w_q')
  for scanned (stacked) block variables, else None."""
  marker = '/blocks/block/'
  if marker not in name:
    return None
  head, tail = name.split(marker, 1)
  return f'{head}/blocks_', tail


def model_variables(imported: layout.Imported, var_hparams,
                    head_bias_init: float) -> Any:
  """The model's variable tree filled with the imported values.

  Args:
    imported: the weights ('network/...', 'softmax/...').
    var_hparams: the model's WeightHParams tree (abstract init).
    head_bias_init: bias of a head the source does not have (weights 0).

  Raises:
    ValueError: a model variable with no imported value or another shape,
      or an imported value the model has no variable for.
  """
  values = {f'params/{k}': v for k, v in imported.variables.items()}
  used = set()

  def fill(path, hparams):
    name = _name(path)
    shape = tuple(hparams.repeat_prefix or ()) + tuple(hparams.shape)
    stacked = _stacked_name(name)
    if stacked is not None:
      head, tail = stacked
      parts = [f'{head}{i}/{tail}' for i in range(shape[0])]
      missing = [p for p in parts if p not in values]
      if missing:
        raise ValueError(f'No imported value for {missing[0]!r} (stacked '
                         f'into {name!r}).')
      used.update(parts)
      value = np.stack([values[p] for p in parts])
    elif name in values:
      used.add(name)
      value = values[name]
    elif name.startswith(_HEAD) and imported.num_classes is None:
      value = (np.zeros(shape, np.float32) if name.endswith('/w') else
               np.full(shape, head_bias_init, np.float32))
    else:
      raise ValueError(f'No imported value for the model variable {name!r} '
                       f'{shape}.')
    if tuple(value.shape) != shape:
      raise ValueError(f'Imported {name!r} has shape {tuple(value.shape)} but '
                       f'the model needs {shape}.')
    return jnp.asarray(value, hparams.dtype or jnp.float32)

  tree = jax.tree_util.tree_map_with_path(
      fill, var_hparams,
      is_leaf=lambda x: isinstance(x, base_layer.WeightHParams))
  extra = sorted(set(values) - used)
  if extra:
    raise ValueError(f'Imported values the model has no variable for: '
                     f'{extra[:8]} (pooling or class token not as the '
                     'checkpoint has them?).')
  return tree


def write(imported: layout.Imported, exp_cfg: pax_fiddle.Config,
          job_log_dir: str, provenance: Mapping[str, Any] | None = None
          ) -> checkpoints.Checkpoint:
  """Writes `imported` as step 0 of the experiment `exp_cfg` in job_log_dir.

  Args:
    imported: the weights.
    exp_cfg: the recipe's config (`fiddle_configs.public.vit(...)`).
    job_log_dir: an empty or new job directory; the checkpoint goes to
      `<job_log_dir>/checkpoints`.
    provenance: written to `<job_log_dir>/import.json` (source, notes,
      recipe calls).

  Returns:
    The written checkpoint.

  Raises:
    ValueError: the directory already holds checkpoints, or the weights do
      not fit the experiment's model (before anything is written).
  """
  if checkpoints.list_checkpoints(job_log_dir):
    raise ValueError(
        f'{str(checkpoints.checkpoint_dir(job_log_dir))!r} already holds '
        'checkpoints; import into a new job_log_dir.')
  exp = pax_fiddle.build(exp_cfg)
  if not isinstance(exp, experiment_lib.ViT22BExperiment):
    raise ValueError(f'Expected a vit22b_pax recipe experiment, got {exp!r}.')
  task_p = exp.task()
  softmax_p = task_p.model.softmax_tpl
  if imported.num_classes is not None and (
      imported.num_classes != softmax_p.num_classes):
    raise ValueError(f'The checkpoint\'s head has {imported.num_classes} '
                     f'classes but the experiment\'s {softmax_p.num_classes}.')
  jax_task = base_hyperparams.instantiate(task_p)
  specs = base_hyperparams.instantiate(
      exp.get_input_specs_provider_params()).get_input_specs()
  with base_layer.JaxContext.new_context():
    var_hparams = jax_task.model.abstract_init_with_metadata(specs)
    mdl_vars = model_variables(imported, var_hparams,
                               float(softmax_p.bias_init))
    state = jax_task.create_train_state(mdl_vars, var_hparams,
                                        discard_opt_states=False)
  ckpt_dir = checkpoints.checkpoint_dir(job_log_dir)
  ckpt_dir.mkdir(parents=True, exist_ok=True)
  pax_checkpoints.save_checkpoint(
      state, ckpt_dir, checkpoint_type=restore.checkpoint_type(task_p),
      train_state_unpadded_shape_dtype_struct=jax.tree.map(
          lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), state),
  ).wait_until_finished()
  if provenance is not None:
    (epath.Path(job_log_dir) / 'import.json').write_text(
        json.dumps(dict(provenance), indent=1, default=str))
  written = checkpoints.resolve(job_log_dir)
  stored = checkpoints.variables(written)
  expected = sum(math.prod(v.shape) for v in jax.tree.leaves(mdl_vars))
  got = sum(math.prod(s) for n, (s, _) in stored.items()
            if n.startswith('params/'))
  if got != expected:
    raise ValueError(f'{str(written.path)!r}: wrote {got} parameter values, '
                     f'expected {expected}.')
  # The integrity manifest every training save gets (runtime/integrity.py),
  # so predict / warm starts verify it like any other checkpoint.
  integrity.write_manifest(written, 'checksum')
  return written
