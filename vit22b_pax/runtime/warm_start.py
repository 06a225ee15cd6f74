# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Warm starts: loading a source run's checkpoint into a new experiment.

Fine-tuning, linear probing, distillation, LiT and the frozen-feature
transfers load a source checkpoint through paxml's own hook,
`task.train.init_from_checkpoint_rules = {checkpoint dir: CheckpointLoadingRules}`.
paxml applies it only when the new job's directory holds no checkpoint yet,
so a restarted job resumes from its own checkpoints.

paxml only opens the source after it has created the job directory and
compiled the model, and a missing or mismatched source then fails deep inside
orbax. `validate()` runs from the experiment's `validate()` (before paxml
writes anything) and raises a ValueError naming the path, the variable and
both shapes instead. It also verifies the source checkpoint
(`runtime/integrity.py`): when the newest one is damaged it says so and pins
the rules to the newest intact step (the source run is only read, never
changed); the step it verified is the step paxml loads.
"""

from __future__ import annotations

from typing import Sequence

from absl import logging
import jax
from paxml import tasks_lib
from praxis import base_hyperparams
from praxis import base_layer
from praxis import pax_fiddle

from vit22b_pax.runtime import checkpoints
from vit22b_pax.runtime import integrity

# The key recipes use when the source run was not given: validate() then says
# how to give it, and nothing runs.
UNSET = '<pretrain_dir not set>'


def loading_rules(
    source_task_p: pax_fiddle.Config,
    source_specs_p: pax_fiddle.Config,
    load_rules: Sequence[tuple[str, str]],
    ignore_rules: Sequence[str] = (),
    step: int | None = None,
) -> pax_fiddle.Config[tasks_lib.CheckpointLoadingRules]:
  """paxml's CheckpointLoadingRules for one source run.

  Args:
    source_task_p: the source experiment's task config (its model builds the
      source train state that orbax restores).
    source_specs_p: the source experiment's input-specs provider.
    load_rules: (target_regex, source_format) pairs, first match wins.
    ignore_rules: target regexes left to their initialisers (new heads).
    step: source step; None = its latest checkpoint.
  """
  return pax_fiddle.Config(
      tasks_lib.CheckpointLoadingRules, task_p=source_task_p,
      load_rules=list(load_rules), ignore_rules=list(ignore_rules),
      step=step, input_specs_provider_p=source_specs_p)


def set_source(task_p: pax_fiddle.Config, pretrain_dir: str | None,
               rules_p: pax_fiddle.Config) -> None:
  """Points `task_p` at a source run (its job_log_dir), in place."""
  key = (str(checkpoints.checkpoint_dir(pretrain_dir)) if pretrain_dir
         else UNSET)
  task_p.train.init_from_checkpoint_rules = {key: rules_p}


def source_dirs(task_p: pax_fiddle.Config) -> list[str]:
  """The checkpoint folders a task warm-starts from (UNSET included)."""
  return list(task_p.train.init_from_checkpoint_rules or {})


def model_shapes(model_p: pax_fiddle.Config,
                 specs_p: pax_fiddle.Config) -> dict[str, tuple[int, ...]]:
  """{'params/a/b': shape} of a model config, by abstract initialisation."""
  specs = base_hyperparams.instantiate(specs_p).get_input_specs()
  model = base_hyperparams.instantiate(model_p)
  with base_layer.JaxContext.new_context():
    var_hparams = model.abstract_init_with_metadata(specs)
  leaves, _ = jax.tree_util.tree_flatten_with_path(
      var_hparams, is_leaf=lambda x: isinstance(x, base_layer.WeightHParams))
  shapes = {}
  for path, hparams in leaves:
    name = '/'.join(str(getattr(k, 'key', getattr(k, 'name', k)))
                    for k in path)
    shapes[name] = (tuple(hparams.repeat_prefix or ()) +
                    tuple(hparams.shape))
  return shapes


def validate(task_p: pax_fiddle.Config, specs_p: pax_fiddle.Config,
             level: str = 'checksum') -> list[checkpoints.Checkpoint]:
  """Checks every source of `task_p` before anything is written, and pins
  each source's rules to the step checked (in place).

  Args:
    task_p: the task config (its rules are updated).
    specs_p: the input specs of the task.
    level: checkpoint verification level (`integrity.LEVELS`).

  Returns:
    The source checkpoints paxml will load (one per source).

  Raises:
    ValueError: a source was not given, has no checkpoint (or not the step
      asked for), the step asked for or every checkpoint is damaged, or it
      does not hold a variable the rules load, shape for shape; the message
      names the path, the variable and both shapes.
  """
  rules = task_p.train.init_from_checkpoint_rules or {}
  if not rules:
    return []
  if UNSET in rules:
    checkpoints.resolve(None)  # Raises, saying how to give the source.
  shapes = model_shapes(task_p.model, specs_p)
  selected = []
  for ckpt_dir, rules_p in rules.items():
    ckpt, damaged = integrity.select(ckpt_dir, rules_p.step, level)
    if damaged:
      logging.warning(
          'Warm start: the newest checkpoint of %s is damaged (%s); loading '
          'step %d (%s) instead.', ckpt_dir, damaged[0].describe(), ckpt.step,
          ckpt.path)
    rules_p.step = ckpt.step
    checkpoints.match_rules(
        shapes, checkpoints.variables(ckpt), rules_p.load_rules,
        rules_p.ignore_rules or (),
        where=f'Checkpoint {str(ckpt.path)!r} (step {ckpt.step})')
    selected.append(ckpt)
  return selected
