# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Teacher-student distillation, "patient and consistent" (arXiv 2106.05237).

Beyer et al. 2022 ("Knowledge distillation: A good teacher is patient and
consistent"), used by ViT-22B to distil into ViT-B/16 and ViT-L/16: the
teacher and the student see the *same* aggressively augmented batch
(inception crop + mixup, already applied by the input pipeline) and the
student matches the teacher's function with
  kd_loss = T² · KL(softmax(teacher / T) ‖ softmax(student / T)),  T = 1,
optionally plus `ce_weight` × the student's cross-entropy on the labels.

Both towers are classifier model configs (e.g.
`vit22b_pax.models.classifier.classifier_config(...)`): children `teacher` and
`student`, so their variables live under `params/teacher/...` and
`params/student/...`. The experiment freezes and loads the teacher with

  learner.bprop_variable_exclusion = [TEACHER_EXCLUSION]  # .*params/teacher/.*
  train.init_from_checkpoint_rules = {
      TEACHER_CKPT_DIR: CheckpointLoadingRules(
          task_p=<teacher's classifier task>,
          load_rules=[TEACHER_LOAD_RULE],  # params/teacher/(.*) -> params/{}
          safe_load=True, ...)}

(paxml matches exclusion regexes with `re.fullmatch` against '/'-joined
variable paths). Independently of the learner, the teacher's logits are under
`jax.lax.stop_gradient`, so no gradient ever reaches it, and by default the
teacher runs in eval mode (`do_eval=True`: no dropout / droppath), as in
big_vision's distillation trainer (`train=name == 'student'`).

  python -m paxml.main --exp=vit22b_pax.experiments.distill.<Experiment> \
      --job_log_dir=/tmp/distill
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import jax
import jax.numpy as jnp
from praxis import base_layer
from praxis import base_model
from praxis import metric_utils
from praxis import pax_fiddle
from praxis import py_utils

from vit22b_pax.models import losses
from vit22b_pax.perf import flops

NestedMap = py_utils.NestedMap
LayerTpl = pax_fiddle.Config[base_layer.BaseLayer]
template_field = pax_fiddle.template_field

# Learner regex freezing the teacher (`bprop_variable_exclusion`), and the
# `CheckpointLoadingRules.load_rules` entry mapping a classifier checkpoint's
# `params/...` onto the teacher.
TEACHER_EXCLUSION = r'.*params/teacher/.*'
TEACHER_LOAD_RULE = (r'params/teacher/(.*)', 'params/{}')


@contextlib.contextmanager
def eval_mode() -> Iterator[None]:
  """Runs the enclosed layers with `do_eval=True` (frozen towers)."""
  current = base_layer.JaxContext.top()
  hparams = (current.hparams.clone() if current is not None
             else base_layer.JaxContext.HParams())
  hparams.do_eval = True
  with base_layer.JaxContext.new_context(hparams=hparams):
    yield


def num_classes_of(model_tpl: Any) -> int | None:
  """Number of classes of a classifier config (softmax_tpl.num_classes)."""
  softmax_tpl = getattr(model_tpl, 'softmax_tpl', None)
  k = getattr(softmax_tpl, 'num_classes', None)
  return k or None


class DistillationModel(base_model.BaseModel):
  """Distils a frozen teacher classifier into a student classifier.

  Attributes:
    teacher_tpl: classifier model config of the teacher (child `teacher`);
      `compute_predictions(batch)` must return `softmax_output.logits` [B, K].
    student_tpl: classifier model config of the student (child `student`),
      same contract and the same number of classes K as the teacher.
    temperature: softmax temperature T of the KL term (paper recipe: 1.0).
    ce_weight: weight of the student's cross-entropy on the labels added to
      the KL term (0.0: pure function matching, as in the paper).
    teacher_do_eval: run the teacher in eval mode (no dropout / droppath).
    label_field: batch key of the [B, K] label distribution used by
      `ce_loss`, `accuracy`, `acc5` and `teacher_accuracy`.
  """

  teacher_tpl: LayerTpl | None = template_field(None)
  student_tpl: LayerTpl | None = template_field(None)
  temperature: float = 1.0
  ce_weight: float = 0.0
  teacher_do_eval: bool = True
  label_field: str = 'label_probs'

  def setup(self) -> None:
    if self.teacher_tpl is None or self.student_tpl is None:
      raise ValueError('DistillationModel needs both teacher_tpl and '
                       f'student_tpl, got {self.teacher_tpl!r} and '
                       f'{self.student_tpl!r}.')
    if self.temperature <= 0:
      raise ValueError(f'temperature must be > 0, got {self.temperature}.')
    if self.ce_weight < 0:
      raise ValueError(f'ce_weight must be >= 0, got {self.ce_weight}.')
    k_teacher = num_classes_of(self.teacher_tpl)
    k_student = num_classes_of(self.student_tpl)
    if k_teacher and k_student and k_teacher != k_student:
      raise ValueError(
          f'teacher has {k_teacher} classes but student has {k_student}: '
          'distillation needs the same label space (map the classes first).')
    self.create_child('teacher', self.teacher_tpl)
    self.create_child('student', self.student_tpl)

  def flops_per_example(self, image_size: int) -> float:
    """Training FLOPs per image: the student's forward + backward and the
    teacher's forward (the paper's count, `perf.flops.encoder_flops`)."""
    count = {name: flops.encoder_flops(tpl.network_tpl, image_size,
                                       tpl.softmax_tpl.num_classes)
             for name, tpl in (('teacher', self.teacher_tpl),
                               ('student', self.student_tpl))}
    return count['student'].per_image + count['teacher'].forward_per_image

  def compute_predictions(self, input_batch: NestedMap) -> NestedMap:
    """Runs both towers on the same batch.

    Args:
      input_batch: NestedMap with the classifiers' inputs: `image`
        [B, H, W, 3], `label_probs` [B, K], optional `weight` [B].

    Returns:
      NestedMap(student=<student predictions>, student_logits [B, K],
      teacher_logits [B, K] (gradient-free), example_weights [B]).
    """
    if self.teacher_do_eval:
      with eval_mode():
        teacher = self.teacher.compute_predictions(input_batch)
    else:
      teacher = self.teacher.compute_predictions(input_batch)
    teacher_logits = jax.lax.stop_gradient(teacher.softmax_output.logits)
    student = self.student.compute_predictions(input_batch)
    student_logits = student.softmax_output.logits
    if teacher_logits.shape[-1] != student_logits.shape[-1]:
      raise ValueError(
          f'teacher has {teacher_logits.shape[-1]} classes but student has '
          f'{student_logits.shape[-1]}: distillation needs the same label '
          'space (map the classes first).')
    return NestedMap(
        student=student,
        student_logits=student_logits,
        teacher_logits=teacher_logits,
        example_weights=student.example_weights,
    )

  def compute_loss(
      self, predictions: NestedMap, input_batch: NestedMap
  ) -> tuple[NestedMap, dict[str, Any]]:
    """KL(teacher ‖ student) [+ ce_weight · CE] and agreement metrics.

    Args:
      predictions: output of `compute_predictions`.
      input_batch: the batch (needs `label_field` for the label metrics).

    Returns:
      (metrics, per_example_out): WeightedScalars total_loss, kd_loss,
      ce_loss, accuracy, acc5 (K > 5), teacher_accuracy, agreement; and
      per-example student/teacher logits and labels.
    """
    s_logits = predictions.student_logits
    t_logits = predictions.teacher_logits
    weights = predictions.example_weights.astype(jnp.float32)
    labels = input_batch[self.label_field]

    kd = losses.kl_distillation(t_logits, s_logits, self.temperature)
    kd_loss, total_weight = losses.weighted_mean(kd, weights)
    ce_loss = predictions.student.softmax_output.avg_xent
    total_loss = kd_loss + self.ce_weight * ce_loss

    def accuracy(logits, k=1):
      return metric_utils.top_k_accuracy(
          k, logits, label_probs=labels, weights=weights)

    agree = jnp.argmax(s_logits, axis=-1) == jnp.argmax(t_logits, axis=-1)
    metrics = NestedMap(
        total_loss=(total_loss, total_weight),
        kd_loss=(kd_loss, total_weight),
        ce_loss=(ce_loss, total_weight),
        accuracy=(accuracy(s_logits), total_weight),
        teacher_accuracy=(accuracy(t_logits), total_weight),
        agreement=losses.weighted_mean(agree, weights),
    )
    if s_logits.shape[-1] > 5:
      metrics.acc5 = (accuracy(s_logits, 5), total_weight)
    per_example_out = NestedMap(
        labels=labels, logits=s_logits, teacher_logits=t_logits)
    return metrics, per_example_out
