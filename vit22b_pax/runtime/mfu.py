# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Model TFLOP/s and MFU summaries for a paxml train program.

paxml's `BaseTrainProgram` measures steps/sec every
`compute_steps_per_sec_interval_steps` and writes it ('Steps/sec') with the
train summaries every `summary_interval_steps`. `MfuTrainProgram` turns the
same measurement into

  model_tflops_per_sec = steps/sec * global batch * flops_per_example / 1e12
  mfu = model FLOP/s / (peak FLOP/s per chip * jax.device_count())

and writes both as scalar summaries next to the others in
`<job_log_dir>/summaries/train`.

`flops_per_example` is derived from the model the task actually builds
(`model_flops_per_example`), once, at setup: a `--fdl=set:` override of the
model or the image size is always counted correctly. Counts follow the
paper (`vit22b_pax.perf.flops`).
"""

from __future__ import annotations

from typing import Any

from absl import logging
import jax
from paxml import programs
from paxml import summary_utils
from praxis import base_layer

from vit22b_pax.perf import flops
from vit22b_pax.perf import peaks

SummaryType = base_layer.SummaryType


def model_flops_per_example(model: Any, image_size: int) -> float:
  """Training FLOPs of one example of an instantiated model (paper's count).

  A model class may define `flops_per_example(image_size)` (distillation,
  LiT, dense and video models do); a praxis `ClassificationModel` over a
  ViT-22B encoder (`network_tpl`, `softmax_tpl`) is counted from its
  encoder config and head.

  Raises:
    ValueError: the model is of neither kind.
  """
  if hasattr(model, 'flops_per_example'):
    return float(model.flops_per_example(image_size))
  network_p = getattr(model, 'network_tpl', None)
  softmax_p = getattr(model, 'softmax_tpl', None)
  if network_p is None or softmax_p is None:
    raise ValueError(
        f'Cannot count the FLOPs of {type(model).__name__}: define '
        'flops_per_example(image_size) on it, or use a ClassificationModel '
        'with a ViT22BEncoder network_tpl.')
  return flops.encoder_flops(network_p, image_size,
                             softmax_p.num_classes).per_image


class MfuTrainProgram(programs.SingleTaskTrainProgram):
  """`SingleTaskTrainProgram` + 'model_tflops_per_sec' and 'mfu' summaries.

  Attributes (constructor arguments):
    flops_per_example: model training FLOPs of one example; None (default) =
      derived from the task's model and the train input's `image_size`.
    peak_flops_per_chip: peak FLOP/s of one chip; None = from the backend
      (`peaks.peak_flops_per_chip`: the bf16 table for TPUs/GPUs, a measured
      float32 matmul peak on CPU).
  """

  def __init__(self, flops_per_example: float | None = None,
               peak_flops_per_chip: float | None = None):
    super().__init__()
    if flops_per_example is not None and not flops_per_example > 0:
      raise ValueError(
          f'flops_per_example must be > 0 or None, got {flops_per_example!r}.')
    if peak_flops_per_chip is not None and not peak_flops_per_chip > 0:
      raise ValueError(
          f'peak_flops_per_chip must be > 0 or None, got '
          f'{peak_flops_per_chip!r}.')
    self.flops_per_example = flops_per_example
    self.peak_flops_per_chip = peak_flops_per_chip
    self._peak = None
    self._pending_rates = []
    self.last_mfu: tuple[float, float] | None = None  # (TFLOP/s, MFU).

  def setup(self, task, train_input, *args, **kwargs):
    super().setup(task, train_input, *args, **kwargs)
    if self.flops_per_example is None:
      image_size = getattr(train_input, 'image_size', None)
      if not image_size:
        raise ValueError(
            f'Cannot count FLOPs: the train input {type(train_input).__name__}'
            ' has no image_size; pass flops_per_example to the train program.')
      self.flops_per_example = model_flops_per_example(task.model, image_size)

  @property
  def peak_flops(self) -> float:
    """Peak FLOP/s of all chips together."""
    if self._peak is None:
      per_chip, source = peaks.peak_flops_per_chip(self.peak_flops_per_chip)
      self._peak = per_chip * jax.device_count()
      logging.info('MFU peak: %.4g FLOP/s per chip (%s) x %d chips.',
                   per_chip, source, jax.device_count())
    return self._peak

  def model_flops_per_sec(self, steps_per_sec: float) -> float:
    """Model FLOP/s of the whole job at `steps_per_sec`."""
    return (steps_per_sec * self.train_unpadded_global_batch_size *
            self.flops_per_example)

  def _maybe_write_summaries(self, step, new_step, train_outputs,
                             compute_steps_per_sec_interval_steps=10):
    steps_per_sec = super()._maybe_write_summaries(
        step, new_step, train_outputs, compute_steps_per_sec_interval_steps)
    handler = self._train_summary_handler
    # Use exactly the steps/sec value(s) paxml writes as 'Steps/sec': the
    # mean over accumulated steps, else the value of the write step.
    if steps_per_sec is not None and (
        not handler.accumulate_over_steps or
        handler.should_accumulate(new_step)):
      self._pending_rates.append(self.model_flops_per_sec(steps_per_sec))
    if not handler.should_write(new_step):
      return steps_per_sec
    rates, self._pending_rates = self._pending_rates, []
    if not handler.accumulate_over_steps:
      rates = rates[-1:] if steps_per_sec is not None else []
    if rates:
      rate = sum(rates) / len(rates)
      mfu = rate / self.peak_flops
      self.last_mfu = (rate / 1e12, mfu)
      logging.info('step %d: model_tflops_per_sec %.4f mfu %.4f', new_step,
                   rate / 1e12, mfu)
      with self.summary_writer.as_default():
        summary_utils.write_summary_tensor(
            new_step, 'model_tflops_per_sec', rate / 1e12,
            SummaryType.AGGREGATE_SCALAR)
        summary_utils.write_summary_tensor(new_step, 'mfu', mfu,
                                           SummaryType.AGGREGATE_SCALAR)
    return steps_per_sec
