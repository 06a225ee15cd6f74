# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Training-stability and architecture ablations at CPU scale.

QK normalization (paper Sec. 2, Fig. 1): without LayerNorm on queries and
keys, the attention logits of an 8B model grew without bound and training
diverged at a learning rate the QK-normalized model trains at. The
`QkNormStability{On,Off}` pair trains the same 2-layer, 64-wide model on the
procedural data with a constant learning rate (no warm-up or cool-down), no
weight decay and one 64-dim head per layer (large logits are easiest to reach
with wide heads); `vit22b_pax.tools.qknorm_sweep` sweeps the rate and seeds:

  python -m vit22b_pax.tools.qknorm_sweep --lrs 0.003,0.01,0.03 --seeds 0 \
      --steps 200 --out runs/qknorm

Parallel vs sequential blocks and biases on vs off (`AblationTiny`, the
default tiny job on a short budget; every variant is one `--fdl` override
away, see `vit22b_pax.tools.ablation_table`).

Like every vit22b_pax experiment they train through the non-finite guard
(`vit22b_pax.experiments.guard`, wired in `base.ViT22BExperiment`): a
diverged run stops with `NonFiniteError` naming the step and quantity and
keeps its last good checkpoint.
"""

from __future__ import annotations

from paxml import experiment_registry
from praxis import pax_fiddle
from praxis import schedules

from vit22b_pax.experiments import pretrain


class _ConstantLrMixin:
  """Constant learning rate (no warm-up/cool-down): the harshest setting."""

  WARMUP_STEPS = 0
  COOLDOWN_STEPS = 0

  def _lr_schedule(self) -> pax_fiddle.Config:
    return pax_fiddle.Config(schedules.Constant)


@experiment_registry.register
class QkNormStabilityOn(_ConstantLrMixin,
                        pretrain.ProceduralViT22BTiny):
  """QK-norm stability pair, with QK normalization (the paper's block):
  2 layers, 64 wide, one 64-dim head, 16 px images (16 tokens), batch 32,
  constant LR, no weight decay; summaries every step, no eval."""

  QK_NORM = True
  PATCH_SIZE = 4
  POOLING = 'map'
  MODEL_DIMS = 64
  NUM_LAYERS = 2
  HIDDEN_DIMS = 256
  NUM_HEADS = 1
  IMAGE_SIZE = 16
  BATCH_SIZE = 32
  LEARNING_RATE = 0.03
  WEIGHT_DECAY = 0.0
  HEAD_WEIGHT_DECAY = 0.0
  TRAIN_STEPS = 200
  # Every step: the first summary (step 1) is the loss of the initial
  # weights, the sweep's reference for "stable".
  SUMMARY_INTERVAL_STEPS = 1
  EVAL_INTERVAL_STEPS = 0  # Train loss only: the sweep reads summaries.
  CHECKPOINT_EVERY_N_STEPS = 1000
  CHECKPOINT_MAX_TO_KEEP = 1


@experiment_registry.register
class QkNormStabilityOff(QkNormStabilityOn):
  """QK-norm stability pair, without QK normalization."""

  QK_NORM = False


@experiment_registry.register
class AblationTiny(pretrain.ProceduralViT22BTiny):
  """The default tiny job scaled to a short CPU budget for the architecture
  table: 4 layers, 64 wide, 2 heads, 16 px images (16 tokens), batch 32,
  300 steps, the paper's schedule shape (warm-up, rsqrt, cool-down); parallel
  fused block with biases ('mlp', 'out'); one eval (512 images) at the end."""

  PATCH_SIZE = 4
  POOLING = 'map'
  MODEL_DIMS = 64
  NUM_LAYERS = 4
  HIDDEN_DIMS = 256
  NUM_HEADS = 2
  IMAGE_SIZE = 16
  BATCH_SIZE = 32
  LEARNING_RATE = 3e-3
  TRAIN_STEPS = 300
  WARMUP_STEPS = 30
  COOLDOWN_STEPS = 60
  TIMESCALE = 100
  SUMMARY_INTERVAL_STEPS = 50
  EVAL_INTERVAL_STEPS = 300
  CHECKPOINT_EVERY_N_STEPS = 1000
  CHECKPOINT_MAX_TO_KEEP = 1


@experiment_registry.register
class DivergingSmoke(pretrain.ProceduralViT22BSmoke):
  """The smoke job with a learning-rate spike: LEARNING_RATE x SPIKE from
  step SPIKE_STEP on, so the update of that step overflows. For testing the
  guard: checkpoints at 0 and 3 stay, the state after step 5 (which the
  executor would save as step 6) is never saved."""

  SPIKE_STEP = 5
  SPIKE = 1e35
  EVAL_INTERVAL_STEPS = 0  # No eval: keeps the test job short.

  def _lr_schedule(self) -> pax_fiddle.Config:
    return pax_fiddle.Config(schedules.PiecewiseConstant,
                             boundaries=[self.SPIKE_STEP],
                             values=[1.0, self.SPIKE])
