# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Distillation, "patient and consistent" (Beyer et al. 2022).

The teacher is a pretraining run's model, loaded under `params/teacher/` and
frozen (no gradient, no optimizer state); the student is a smaller model
trained from scratch on KL(teacher || student) at temperature 1. Both see the
same augmented batch (inception crop, flip and mixup are applied once, in the
input). `from_scratch=True` is the baseline: the same student, data and
schedule, trained on the labels without a teacher.

  python -m paxml.main --job_log_dir=runs/distill \
      --fdl=config:fiddle_configs.distill.distill(size='tiny',pretrain_dir='runs/pretrain')
"""

from __future__ import annotations

from typing import Any, Mapping

from fiddle_configs import common
from fiddle_configs import pretrain
from vit22b_pax.models import distillation

# The student of each size: (width, depth, MLP width, heads).
STUDENTS = {'smoke': dict(model_dims=16, num_layers=1, hidden_dims=32,
                          num_heads=2),
            'tiny': dict(model_dims=64, num_layers=2, hidden_dims=256,
                         num_heads=2),
            'b16': dict(model_dims=384, num_layers=12, hidden_dims=1536,
                        num_heads=6),
            'paper': dict(model_dims=768, num_layers=12, hidden_dims=3072,
                          num_heads=12)}


def distill(size: str = 'tiny', data: str = 'procedural', *,
            pretrain_dir: str | None = None,
            pretrain_step: int | None = None, from_scratch: bool = False,
            student: Mapping[str, Any] | None = None,
            steps: int | None = None, learning_rate: float | None = None,
            temperature: float = 1.0, ce_weight: float = 0.0,
            mixup_alpha: float = 0.2, seed: int = 0,
            data_dir: str | None = None,
            source: Mapping[str, Any] | None = None) -> common.Config:
  """Distils a pretraining run into a smaller student.

  Args:
    size: the teacher's size (`common.SCALES`); the run is its `transfer`.
    data: data to distil on (see `common.DATASETS`).
    pretrain_dir: the teacher run's job_log_dir (required unless
      from_scratch).
    pretrain_step: teacher checkpoint step; None = the latest.
    from_scratch: the baseline: the student alone, softmax cross-entropy on
      the labels, same data, augmentation and schedule.
    student: encoder overrides of the student; default STUDENTS[size] (the
      ViT-22B paper distils into ViT-B/16 and L/16).
    steps: training steps.
    learning_rate: peak learning rate.
    temperature: KL temperature T.
    ce_weight: weight of the student's label cross-entropy added to the KL.
    mixup_alpha: mixup concentration of the shared augmented view.
    seed: data seed; the student is initialised with seed 1234 + seed.
    data_dir: image_folder root, or Fashion-MNIST / TFDS data directory.
    source: more arguments of the teacher's `pretrain.pretrain` call.
  """
  src = pretrain.pretrain(size, **{'data': data, 'data_dir': data_dir,
                                   **(source or {})})
  scale = common.scale(size)
  run = scale.transfer
  steps = steps or run.steps
  teacher = src.task.model
  image_size = src.input_specs_provider.image_size
  num_classes = teacher.softmax_tpl.num_classes

  # Model: the student is the teacher's encoder family at another size.
  encoder = common.encoder(
      common.with_patch(scale.variant, teacher.network_tpl.patch_size),
      image_size, **{**scale.model, **STUDENTS[size], **(student or {})})
  student_p = common.classifier_model(encoder, num_classes, 'softmax')
  if from_scratch:
    model = student_p
  else:
    model = common.Config(
        distillation.DistillationModel, name='distill', teacher_tpl=teacher,
        student_tpl=student_p, temperature=temperature, ce_weight=ce_weight)

  learner = common.learner(
      run, steps, learning_rate=learning_rate,
      frozen=None if from_scratch else distillation.TEACHER_EXCLUSION)
  task = common.task(
      f'{"student" if from_scratch else "distill"}_{data}_{size}', model,
      learner, run, steps=steps, seed=seed,
      mesh=teacher.ici_mesh_shape, dtype=str(teacher.fprop_dtype))
  if not from_scratch:
    common.warm_start(task, src, pretrain_dir,
                      [distillation.TEACHER_LOAD_RULE], step=pretrain_step)

  inputs = common.dataset(
      data, image_size=image_size, num_classes=num_classes,
      batch_size=run.batch_size, seed=seed,
      eval_examples=scale.eval_examples, data_dir=data_dir, augment=True,
      mixup_alpha=mixup_alpha)
  return common.experiment_config(task, inputs)
