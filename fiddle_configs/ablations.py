# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Training-stability and architecture ablations at CPU scale.

QK normalization (paper Sec. 2, Fig. 1): without LayerNorm on queries and
keys, the attention logits of an 8B model grew without bound and training
diverged at a learning rate the QK-normalized model trains at.
`qk_norm_stability` trains a 2-layer, 64-wide model with one 64-dim head per
layer (large logits are easiest to reach with wide heads) at a constant
learning rate, with and without QK-norm; `vit22b_pax.tools.qknorm_sweep`
sweeps the rate and seeds.

`architecture` is the tiny job on a short budget for the parallel/sequential
and biases table (`vit22b_pax.tools.ablation_table`); `diverging` spikes the
learning rate to show the non-finite guard stopping a run.

  python -m vit22b_pax.main --job_log_dir=runs/qk_off \
      --fdl=config:fiddle_configs.ablations.qk_norm_stability(qk_norm=False,learning_rate=0.01)
"""

from __future__ import annotations

from praxis import schedules

from fiddle_configs import common
from fiddle_configs import pretrain

# Block variants of the architecture table: name -> block overrides.
BLOCKS = {
    'parallel_fused': {},
    'parallel_unfused': {'fused': False},
    'sequential': {'parallel': False},
    'no_bias': {'use_bias': ()},
    'all_bias': {'use_bias': ('qkv', 'mlp', 'out')},
}


def qk_norm_stability(qk_norm: bool = True, learning_rate: float = 0.03,
                      steps: int = 200, seed: int = 0) -> common.Config:
  """The QK-norm stability job: 2 x 64, one 64-dim head, 16 px, batch 32.

  Constant learning rate, no weight decay, summaries every step (the first
  is the loss of the initial weights, the sweep's reference), no eval.
  """
  cfg = pretrain.pretrain(
      'tiny', steps=steps, batch_size=32, learning_rate=learning_rate,
      image_size=16, patch=4, constant_lr=True, seed=seed,
      model=dict(model_dims=64, num_layers=2, hidden_dims=256, num_heads=1,
                 pooling='map', qk_norm=qk_norm))
  optimizer = cfg.task.train.learner.optimizer
  optimizer.weight_decay = optimizer.head_weight_decay = 0.0
  train = cfg.task.train
  train.summary_interval_steps = 1
  train.eval_interval_steps = 0
  train.save_interval_steps = 1000
  train.save_max_to_keep = 1
  return cfg


def architecture(block: str = 'parallel_fused', steps: int = 300,
                 seed: int = 0) -> common.Config:
  """The architecture-table job: 4 x 64, 2 heads, 16 px, batch 32, MAP head,
  the paper's schedule shape, one eval (512 images) at the end.

  Args:
    block: one of BLOCKS.
    steps: training steps (warm-up 10%, cool-down 20%).
    seed: data seed (model seed 1234 + seed).
  """
  if block not in BLOCKS:
    raise ValueError(f'Unknown block {block!r}; expected one of '
                     f'{sorted(BLOCKS)}.')
  cfg = pretrain.pretrain(
      'tiny', steps=steps, batch_size=32, learning_rate=3e-3, image_size=16,
      patch=4, seed=seed,
      model=dict(model_dims=64, num_layers=4, hidden_dims=256, num_heads=2,
                 pooling='map', **BLOCKS[block]))
  cfg.task.train.learner.optimizer.lr_schedule.timescale = 100
  train = cfg.task.train
  train.summary_interval_steps = 50
  train.eval_interval_steps = steps
  train.save_interval_steps = 1000
  train.save_max_to_keep = 1
  return cfg


def diverging(spike_step: int = 5, spike: float = 1e35) -> common.Config:
  """The smoke job with the learning rate times `spike` from `spike_step` on:
  that step's update overflows. Checkpoints 0 and 3 stay; the state after
  step 5 (which would be saved as step 6) is never saved."""
  cfg = pretrain.pretrain('smoke')
  cfg.task.train.learner.optimizer.lr_schedule = common.Config(
      schedules.PiecewiseConstant, boundaries=[spike_step],
      values=[1.0, spike])
  cfg.task.train.eval_interval_steps = 0
  return cfg
