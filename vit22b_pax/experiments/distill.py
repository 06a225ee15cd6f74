# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Distillation ("patient and consistent", Beyer et al. 2022).

The teacher is a pretraining checkpoint, loaded under `params/teacher/` and
frozen (no gradient, no optimizer state); the student is a smaller model
trained from scratch on KL(teacher || student) at temperature 1. Both see the
same augmented batch (inception crop, flip and, when MIXUP_ALPHA > 0, mixup
are applied once, in the input).

  python -m paxml.main --job_log_dir=runs/distill \
      --fdl_config=vit22b_pax.experiments.distill.ProceduralDistillTiny \
      --fdl.PRETRAIN_DIR='"runs/pretrain"'
"""

from __future__ import annotations

from paxml import experiment_registry
from praxis import pax_fiddle

from vit22b_pax.experiments import finetune
from vit22b_pax.experiments import pretrain
from vit22b_pax.models import distillation


class DistillBase(finetune.WarmStartBase):
  """Frozen teacher from PRETRAIN_DIR, student = this experiment's model."""

  LOSS = 'softmax'
  HEAD_REGEX = None  # The teacher keeps its head.
  LOAD_RULES = (distillation.TEACHER_LOAD_RULE,)
  TEMPERATURE = 1.0
  CE_WEIGHT = 0.0  # Pure function matching, as in the paper.
  INCEPTION_CROP = True
  FLIP = True

  def _model(self):
    teacher_p = self._source()._model()
    student_p = super()._model()
    return pax_fiddle.Config(
        distillation.DistillationModel, name='distill',
        teacher_tpl=teacher_p, student_tpl=student_p,
        temperature=self.TEMPERATURE, ce_weight=self.CE_WEIGHT)

  def _learner(self):
    learner_p = super()._learner()
    learner_p.bprop_variable_exclusion = [distillation.TEACHER_EXCLUSION]
    return learner_p

  def flops_per_example(self) -> float:
    """Student training (6N per token) + teacher forward (2N per token)."""
    return (super().flops_per_example() +
            self._source().flops_per_example() / 3)


class _TinyStudent:
  """A 2-layer, 64-wide student of the tiny teacher."""

  MODEL_DIMS = 64
  NUM_LAYERS = 2
  HIDDEN_DIMS = 256
  NUM_HEADS = 2


@experiment_registry.register
class ProceduralDistillTiny(_TinyStudent, finetune.TinyRun, DistillBase,
                            pretrain.ProceduralViT22BTiny):
  """Distils ProceduralViT22BTiny (4x128) into a 2x64 student, same data."""

  MIXUP_ALPHA = 0.2


@experiment_registry.register
class ProceduralStudentScratchTiny(_TinyStudent, finetune.TinyRun,
                                   pretrain.ProceduralViT22BTiny):
  """The same student trained from scratch for the same steps (baseline)."""

  LOSS = 'softmax'
  INCEPTION_CROP = True
  FLIP = True
  MIXUP_ALPHA = 0.2


@experiment_registry.register
class ProceduralDistillSmoke(DistillBase, pretrain.ProceduralViT22BSmoke):
  """Seconds-long distillation of ProceduralViT22BSmoke, for tests."""

  PRETRAIN_EXPERIMENT = pretrain.ProceduralViT22BSmoke
  MODEL_DIMS = 16
  NUM_LAYERS = 1
  HIDDEN_DIMS = 32
  TRAIN_STEPS = 4
  MIXUP_ALPHA = 0.2
  EVAL_CONFLICT = False
