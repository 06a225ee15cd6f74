# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Shallow bases of every vit22b_pax experiment.

`ViT22BExperiment.task()` composes the ViT-22B encoder (`_network`), the
classifier head and loss (`_model`), the paper's optimizer and schedule
(`_learner`) and the run settings (`_configure_task`). Registered experiments
are small subclasses that override UPPER_CASE constants; a data mixin supplies
`datasets()` (see `vit22b_pax/experiments/data.py`).

Every experiment also
  * evaluates its held-out splits during training (`TrainAndEvalExecutor`),
  * reports model TFLOP/s and MFU at each summary interval,
  * stops on a non-finite loss or gradient, naming the step and quantity,
    leaving the last good checkpoint intact.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from paxml import base_experiment
from paxml import learners
from paxml import tasks_lib
from praxis import base_hyperparams
from praxis import pax_fiddle

from vit22b_pax.experiments import executor as executor_lib
from vit22b_pax.experiments import train_program
from vit22b_pax.layers import sharding
from vit22b_pax.layers import variants
from vit22b_pax.models import classifier
from vit22b_pax.optim import adafactor
from vit22b_pax.optim import schedules as vit_schedules
from vit22b_pax.perf import flops


class ViT22BExperiment(base_experiment.BaseExperiment):
  """Base: ViT-22B encoder + classifier, the paper's recipe, run settings."""

  # Model section. None = the VARIANT's value.
  VARIANT = 'Ti/16'
  MODEL_DIMS = None
  NUM_LAYERS = None
  HIDDEN_DIMS = None
  NUM_HEADS = None
  PATCH_SIZE = None
  IMAGE_SIZE = 224
  NUM_CLASSES = 1000
  POOLING = 'map'
  PARALLEL = True
  FUSED = None  # None: fused when parallel (the sequential block cannot fuse).
  QK_NORM = True
  NORM_TYPE = None  # None: the encoder's default.
  USE_BIAS = None  # None: the paper's biases (MLP yes, QKV/norms no).
  SCAN = False
  REMAT_POLICY = None
  LOSS = 'sigmoid'
  HEAD_ZERO_INIT = True
  HEAD_BIAS_INIT = None  # None: -log(K-1) for sigmoid, 0 for softmax.
  FPROP_DTYPE = 'float32'

  # Optimizer section (paper: Adafactor variant, rsqrt schedule).
  LEARNING_RATE = 1e-3
  WARMUP_STEPS = 10_000
  COOLDOWN_STEPS = 30_000
  TIMESCALE = 10_000
  WEIGHT_DECAY = 0.01
  HEAD_WEIGHT_DECAY = 3.0
  GRAD_CLIP_NORM = 1.0

  # Run section.
  BATCH_SIZE = 65_536  # Global batch.
  TRAIN_STEPS = 177_000
  SUMMARY_INTERVAL_STEPS = 100
  EVAL_INTERVAL_STEPS = 1000
  CHECKPOINT_EVERY_N_STEPS = 1000
  CHECKPOINT_MAX_TO_KEEP = 3
  RANDOM_SEED = 1234
  ICI_MESH_SHAPE = [1, 1, 1]
  DCN_MESH_SHAPE = None
  MESH_AXIS_NAMES = ('replica', 'data', 'mdl')
  PEAK_FLOPS_PER_CHIP = None  # MFU denominator; None: from the backend.

  # -- Model ---------------------------------------------------------------
  def _network(self) -> pax_fiddle.Config:
    overrides = dict(
        model_dims=self.MODEL_DIMS, num_layers=self.NUM_LAYERS,
        hidden_dims=self.HIDDEN_DIMS, num_heads=self.NUM_HEADS,
        pooling=self.POOLING,
        parallel=self.PARALLEL, fused=self.FUSED, qk_norm=self.QK_NORM,
        norm_type=self.NORM_TYPE, use_bias=self.USE_BIAS, scan=self.SCAN,
        remat_policy=self.REMAT_POLICY)
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return variants.encoder_config(self.variant_name(), self.IMAGE_SIZE,
                                   **overrides)

  def variant_name(self) -> str:
    """VARIANT with PATCH_SIZE applied, e.g. 'Ti/4'."""
    if self.PATCH_SIZE is None:
      return self.VARIANT
    return f'{self.VARIANT.split("/")[0]}/{self.PATCH_SIZE}'

  def _model(self) -> pax_fiddle.Config:
    return classifier.classifier_config(
        self._network(), self.NUM_CLASSES, loss=self.LOSS,
        head_zero_init=self.HEAD_ZERO_INIT, head_bias_init=self.HEAD_BIAS_INIT)

  # -- Optimizer -----------------------------------------------------------
  def _lr_schedule(self) -> pax_fiddle.Config:
    return pax_fiddle.Config(
        vit_schedules.RsqrtSchedule, warmup_steps=self.WARMUP_STEPS,
        timescale=self.TIMESCALE, cooldown_steps=self.COOLDOWN_STEPS,
        total_steps=self.TRAIN_STEPS)

  def _optimizer(self) -> pax_fiddle.Config:
    return pax_fiddle.Config(
        adafactor.ViT22BAdafactor, learning_rate=self.LEARNING_RATE,
        lr_schedule=self._lr_schedule(),
        clip_gradient_norm_to_value=self.GRAD_CLIP_NORM,
        weight_decay=self.WEIGHT_DECAY,
        head_weight_decay=self.HEAD_WEIGHT_DECAY)

  def _learner(self) -> pax_fiddle.Config[learners.Learner]:
    return pax_fiddle.Config(
        learners.Learner, name='learner', loss_name='total_loss',
        optimizer=self._optimizer())

  # -- Task ----------------------------------------------------------------
  def _configure_task(self, task_p: pax_fiddle.Config) -> None:
    """Run settings and mesh; subclasses add checkpoint rules here."""
    train_p = task_p.train
    train_p.num_train_steps = self.TRAIN_STEPS
    train_p.summary_interval_steps = self.SUMMARY_INTERVAL_STEPS
    train_p.eval_interval_steps = self.EVAL_INTERVAL_STEPS
    train_p.save_interval_steps = self.CHECKPOINT_EVERY_N_STEPS
    train_p.save_max_to_keep = self.CHECKPOINT_MAX_TO_KEEP
    train_p.random_seed = self.RANDOM_SEED
    train_p.eval_skip_train = True
    model_p = task_p.model
    model_p.ici_mesh_shape = list(self.ICI_MESH_SHAPE)
    model_p.dcn_mesh_shape = (list(self.DCN_MESH_SHAPE)
                              if self.DCN_MESH_SHAPE else None)
    model_p.mesh_axis_names = list(self.MESH_AXIS_NAMES)
    model_p.fprop_dtype = jnp.dtype(self.FPROP_DTYPE)
    if math.prod(self.ICI_MESH_SHAPE) * math.prod(
        self.DCN_MESH_SHAPE or [1]) > 1:
      sharding.set_sharding(model_p.network_tpl,
                            mesh_axis_names=tuple(self.MESH_AXIS_NAMES))

  def task(self) -> pax_fiddle.Config[tasks_lib.SingleTask]:
    task_p = pax_fiddle.Config(
        tasks_lib.SingleTask, name=type(self).__name__.lower(),
        model=self._model(),
        train=pax_fiddle.Config(tasks_lib.SingleTask.Train,
                                learner=self._learner()))
    self._configure_task(task_p)
    return task_p

  # -- Programs ------------------------------------------------------------
  def flops_per_example(self) -> float:
    """Training FLOPs of one image by the paper's count (MFU summaries)."""
    net = self._network()
    size = variants.Variant('custom', net.model_dims, net.num_layers,
                            net.hidden_dims, net.num_heads)
    return flops.vit_flops((size, net.patch_size), self.IMAGE_SIZE,
                           num_classes=self.NUM_CLASSES,
                           parallel=self.PARALLEL).per_image

  def train_program_config(self) -> pax_fiddle.Config:
    return pax_fiddle.Config(
        train_program.ViT22BTrainProgram,
        flops_per_example=self.flops_per_example(),
        peak_flops_per_chip=self.PEAK_FLOPS_PER_CHIP)

  def train_programs(self):
    return [base_hyperparams.instantiate(self.train_program_config())]

  def executor(self):
    return executor_lib.TrainAndEvalExecutor(self.eval_programs)

  def per_host_batch_size(self, global_batch: int | None = None) -> int:
    """Global batch split over hosts (paxml inputs take per-host batches)."""
    global_batch = global_batch or self.BATCH_SIZE
    hosts = jax.process_count()
    if global_batch % hosts:
      raise ValueError(f'BATCH_SIZE {global_batch} is not divisible by the '
                       f'number of hosts {hosts}.')
    return global_batch // hosts
