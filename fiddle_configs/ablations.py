# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Training-stability and architecture ablations at CPU scale.

QK normalization (paper Sec. 2, Fig. 1): without LayerNorm on queries and
keys, the attention logits of an 8B model grew without bound and training
diverged at a learning rate the QK-normalized model trains at.
`qk_norm_stability` trains a small model (default 2 layers, 64 wide, one
64-dim head per layer: large logits are easiest to reach with wide heads)
with and without QK-norm; `vit22b_pax.tools.qknorm_sweep` sweeps the
learning rate over orders of magnitude as Wortsman et al. 2023 (arXiv
2309.14322, "Small-scale proxies for large-scale Transformer training
instabilities") do, with either optimizer:

  * optimizer='adafactor': the paper's Adafactor variant (`ViT22BAdafactor`);
  * optimizer='adamw': AdamW as in the proxy study (`ViT22BAdamW`: beta2
    0.95, epsilon 1e-8, the same decoupled weight-decay rules);

both behind the Learner's global gradient-norm clip 1.0, and with
schedule='constant' (no warm-up), 'cosine' (linear warm-up, then cosine
decay to 1e-3 of the peak: the proxy study's schedule) or 'rsqrt' (the
paper's, with the tiny pretraining run's warm-up, timescale and cool-down).
Weight decay is off (0) for both optimizers unless `weight_decay` is given:
decay shrinks the query/key weights and would mask the logit growth being
measured.

`architecture` is the tiny job on a short budget for the parallel/sequential
and biases table (`vit22b_pax.tools.ablation_table`); `diverging` spikes the
learning rate to show the non-finite guard stopping a run.

  python -m vit22b_pax.main --job_log_dir=runs/qk_off \
      --fdl=config:fiddle_configs.ablations.qk_norm_stability(qk_norm=False,learning_rate=0.01,optimizer='adamw',schedule='cosine',steps=1000)
"""

from __future__ import annotations

from praxis import schedules

from fiddle_configs import common
from fiddle_configs import pretrain
from vit22b_pax.optim import adafactor
from vit22b_pax.optim import adamw

OPTIMIZERS = {'adafactor': adafactor.ViT22BAdafactor,
              'adamw': adamw.ViT22BAdamW}
SCHEDULES = ('constant', 'cosine', 'rsqrt')
# Cosine decay ends at this fraction of the peak (the proxy study decays to
# 1e-5, i.e. 1e-3 of a 1e-2 peak).
COSINE_MIN_RATIO = 1e-3

# Block variants of the architecture table: name -> block overrides.
BLOCKS = {
    'parallel_fused': {},
    'parallel_unfused': {'fused': False},
    'sequential': {'parallel': False},
    'no_bias': {'use_bias': ()},
    'all_bias': {'use_bias': ('qkv', 'mlp', 'out')},
}


def lr_schedule(schedule: str, steps: int, warmup: float) -> common.Config:
  """The learning-rate multiplier of the stability job.

  Args:
    schedule: one of SCHEDULES.
    steps: training steps (the decay ends there).
    warmup: cosine warm-up length as a fraction of `steps`.
  """
  if schedule not in SCHEDULES:
    raise ValueError(f'Unknown schedule {schedule!r}; expected one of '
                     f'{SCHEDULES}.')
  if schedule == 'constant':
    return common.constant_schedule()
  if schedule == 'rsqrt':
    return common.rsqrt_schedule(steps, common.scale('tiny').pretrain)
  if not 0 <= warmup < 1:
    raise ValueError(f'warmup must be a fraction of the steps in [0, 1), '
                     f'got {warmup}.')
  warmup_steps = int(round(warmup * steps))
  return common.Config(schedules.LinearRampupCosineDecay,
                       warmup_steps=warmup_steps, decay_start=warmup_steps,
                       decay_end=steps, min_ratio=COSINE_MIN_RATIO, max=1.0)


def qk_norm_stability(qk_norm: bool = True, learning_rate: float = 0.03,
                      steps: int = 200, seed: int = 0, *,
                      optimizer: str = 'adafactor',
                      schedule: str = 'constant', warmup: float = 0.05,
                      weight_decay: float = 0.0, width: int = 64,
                      depth: int = 2, heads: int = 1,
                      summary_every: int = 1) -> common.Config:
  """The QK-norm stability job: width x depth, `heads` heads, 16 px (16
  tokens of 4x4 px), batch 32, MAP head, sigmoid loss, no eval.

  Args:
    qk_norm: LayerNorm on queries and keys (the paper's block).
    learning_rate: peak learning rate.
    steps: training steps.
    seed: data seed (model seed 1234 + seed).
    optimizer: 'adafactor' (the paper's variant) or 'adamw'.
    schedule: 'constant', 'cosine' (warm-up + cosine) or 'rsqrt'.
    warmup: cosine warm-up as a fraction of the steps (proxy study: 0.05).
    weight_decay: decoupled decay of body and head (0: none).
    width: model width (MLP 4x).
    depth: blocks.
    heads: attention heads (head dim = width / heads).
    summary_every: train summary interval. A train summary at step s is the
      value computed on the batch of step s (weights before its update),
      never an average over the interval: summary accumulation stays off.
  """
  if optimizer not in OPTIMIZERS:
    raise ValueError(f'Unknown optimizer {optimizer!r}; expected one of '
                     f'{sorted(OPTIMIZERS)}.')
  if not (learning_rate > 0 and weight_decay >= 0 and summary_every >= 1):
    raise ValueError(
        f'Expected learning_rate > 0, weight_decay >= 0 and summary_every '
        f'>= 1, got {learning_rate}, {weight_decay} and {summary_every}.')
  cfg = pretrain.pretrain(
      'tiny', steps=steps, batch_size=32, learning_rate=learning_rate,
      image_size=16, patch=4, constant_lr=True, seed=seed,
      model=dict(model_dims=width, num_layers=depth, hidden_dims=4 * width,
                 num_heads=heads, pooling='map', qk_norm=qk_norm))
  learner = cfg.task.train.learner
  learner.optimizer = common.Config(
      OPTIMIZERS[optimizer], learning_rate=learning_rate,
      lr_schedule=lr_schedule(schedule, steps, warmup),
      clip_gradient_norm_to_value=1.0, weight_decay=weight_decay,
      head_weight_decay=weight_decay)
  train = cfg.task.train
  train.summary_interval_steps = summary_every
  train.summary_accumulate_interval_steps = None
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
