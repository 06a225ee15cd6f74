# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Fine-tuning and linear probing from a pretraining checkpoint.

Both warm-start through paxml's `init_from_checkpoint_rules`: every variable
but the head is loaded from PRETRAIN_DIR's latest (or PRETRAIN_STEP)
checkpoint; the new head starts from its initialiser. paxml applies the rules
only when this job's own directory has no checkpoint, so a restarted job
resumes from its own checkpoints. The position embedding keeps the pretraining
grid and is resampled to the new resolution at run time.

  python -m paxml.main --job_log_dir=runs/finetune \
      --fdl_config=vit22b_pax.experiments.finetune.ProceduralFinetuneTiny \
      --fdl.PRETRAIN_DIR='"runs/pretrain"'
"""

from __future__ import annotations

import importlib

from paxml import experiment_registry
from paxml import tasks_lib
from praxis import pax_fiddle

from vit22b_pax.experiments import base
from vit22b_pax.experiments import checkpoints
from vit22b_pax.experiments import data
from vit22b_pax.experiments import pretrain


def resolve_experiment(exp):
  """An experiment class, or its dotted 'module.Class' name."""
  if isinstance(exp, str):
    module, _, name = exp.rpartition('.')
    try:
      return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as e:
      raise ValueError(f'Cannot find experiment {exp!r}: expected '
                       '"package.module.ClassName".') from e
  return exp


class WarmStartBase(base.ViT22BExperiment):
  """Loads a source checkpoint into this model (all but HEAD_REGEX)."""

  PRETRAIN_DIR = None  # job_log_dir of the source run.
  PRETRAIN_STEP = None  # None: latest.
  PRETRAIN_EXPERIMENT = pretrain.ProceduralViT22BTiny  # Its model config.
  HEAD_REGEX = r'params/softmax/.*'
  # (target_regex, source_format): paxml's CheckpointLoadingRules.load_rules.
  LOAD_RULES = ((r'params/(.*)', 'params/{}'),)

  def _source(self):
    return resolve_experiment(self.PRETRAIN_EXPERIMENT)()

  def _ignore_rules(self) -> list[str]:
    return [self.HEAD_REGEX] if self.HEAD_REGEX else []

  def _loading_rules(self) -> pax_fiddle.Config:
    source = self._source()
    return pax_fiddle.Config(
        tasks_lib.CheckpointLoadingRules,
        task_p=source.task(),
        load_rules=list(self.LOAD_RULES),
        ignore_rules=self._ignore_rules(),
        step=self.PRETRAIN_STEP,
        input_specs_provider_p=source.get_input_specs_provider_params(),
    )

  def _configure_task(self, task_p) -> None:
    super()._configure_task(task_p)
    if self.PRETRAIN_DIR:
      task_p.train.init_from_checkpoint_rules = {
          checkpoints.checkpoint_dir(self.PRETRAIN_DIR): self._loading_rules()}

  def validate(self) -> None:
    """Fails early, before paxml writes anything, on a bad source."""
    super().validate()
    shapes = checkpoints.model_shapes(
        self.task().model,
        checkpoints.abstract_input_specs(
            self.get_input_specs_provider_params()))
    checkpoints.validate_source(self.PRETRAIN_DIR, self.PRETRAIN_STEP, shapes,
                                self.LOAD_RULES, self._ignore_rules())


class FinetuneBase(WarmStartBase):
  """Fine-tuning: new head, softmax cross-entropy, usually a new resolution."""

  LOSS = 'softmax'
  POSEMB_GRID = None  # Pretraining patch grid (h, w); None: from the source.

  def _network(self):
    net = super()._network()
    source = self._source()
    grid = self.POSEMB_GRID or (
        source.IMAGE_SIZE // (source.PATCH_SIZE or self.PATCH_SIZE),) * 2
    net.pos_emb_grid = tuple(grid)
    return net


class LinearProbeBase(WarmStartBase):
  """Linear probe: the backbone is frozen (no gradient, no optimizer state, no
  weight decay); only the new head trains."""

  LOSS = 'softmax'
  TRAINABLE_REGEX = r'.*softmax.*'

  def _learner(self):
    learner_p = super()._learner()
    learner_p.bprop_variable_inclusion = [self.TRAINABLE_REGEX]
    return learner_p


class TinyRun:
  """Run length of the CPU-sized warm-started jobs."""

  TRAIN_STEPS = 500
  LEARNING_RATE = 3e-4
  WARMUP_STEPS = 50
  COOLDOWN_STEPS = 100
  TIMESCALE = 1000
  SUMMARY_INTERVAL_STEPS = 100
  EVAL_INTERVAL_STEPS = 250
  CHECKPOINT_EVERY_N_STEPS = 250


@experiment_registry.register
class ProceduralFinetuneTiny(TinyRun, FinetuneBase,
                             pretrain.ProceduralViT22BTiny):
  """Fine-tunes ProceduralViT22BTiny at 48 px (posemb resampled 4x4 -> 6x6),
  softmax cross-entropy, new zero-initialised head."""

  IMAGE_SIZE = 48


@experiment_registry.register
class ProceduralLinearProbeTiny(TinyRun, LinearProbeBase,
                                pretrain.ProceduralViT22BTiny):
  """Linear probe on frozen ProceduralViT22BTiny features (32 px)."""

  LEARNING_RATE = 1e-2


@experiment_registry.register
class FashionMnistLinearProbeTiny(TinyRun, LinearProbeBase,
                                  pretrain.FashionMnistViT22BTiny):
  """Linear probe of FashionMnistViT22BTiny features on Fashion-MNIST."""

  PRETRAIN_EXPERIMENT = pretrain.FashionMnistViT22BTiny
  LEARNING_RATE = 1e-2


@experiment_registry.register
class ProceduralFinetuneSmoke(FinetuneBase, pretrain.ProceduralViT22BSmoke):
  """Seconds-long fine-tune of ProceduralViT22BSmoke at 24 px, for tests."""

  PRETRAIN_EXPERIMENT = pretrain.ProceduralViT22BSmoke
  IMAGE_SIZE = 24
  TRAIN_STEPS = 4
  EVAL_CONFLICT = False


@experiment_registry.register
class ProceduralLinearProbeSmoke(LinearProbeBase,
                                 pretrain.ProceduralViT22BSmoke):
  """Seconds-long linear probe of ProceduralViT22BSmoke, for tests."""

  PRETRAIN_EXPERIMENT = pretrain.ProceduralViT22BSmoke
  TRAIN_STEPS = 4
  LEARNING_RATE = 1e-2
  EVAL_CONFLICT = False
