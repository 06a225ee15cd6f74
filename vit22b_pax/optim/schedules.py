# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Reciprocal-square-root learning-rate schedule with warm-up and cool-down.

ViT-22B (Dehghani et al. 2023, §3): "reciprocal square-root learning rate
schedule, peak 1e-3, linear warm-up over 10k steps, linear cool-down over the
last 30k" of 177k steps. This is big_vision's
`utils.create_learning_rate_schedule(decay_type='rsqrt')` (ViT-G uses
timescale 10k) with `base=1`:

  rsqrt(s)    = 1 / sqrt(1 + (s - warmup) / timescale)     if s >= warmup
              = 1                                           otherwise
  warmup(s)   = min(1, s / warmup)                          (if warmup > 0)
  cooldown(s) = clip((total - s) / cooldown, 0, 1)          (if cooldown > 0)
  value(s)    = rsqrt(s) * warmup(s) * cooldown(s)

Praxis convention: the value is a *multiplier* of the optimizer's
`learning_rate` (the peak, 1e-3 in the paper). `s` is the optimizer's update
count (0-based), so the first update has value 0 when warm-up is on, exactly
as in big_vision. Unlike big_vision the cool-down factor is clipped at 0, so
running past `total_steps` never yields a negative learning rate.
"""

from __future__ import annotations

import jax
from jax import numpy as jnp
from praxis import schedules


class RsqrtSchedule(schedules.BaseSchedule):
  """big_vision's rsqrt decay with linear warm-up and linear cool-down.

  Attributes:
    warmup_steps: linear warm-up length (paper: 10_000); 0 disables it.
    timescale: rsqrt timescale in steps (big_vision ViT-G: 10_000); the
      multiplier halves `3 * timescale` steps after the warm-up.
    cooldown_steps: linear cool-down length, ending at `total_steps` (paper:
      30_000); 0 disables it.
    total_steps: training length in steps (paper: 177_000).
  """

  warmup_steps: int = 10_000
  timescale: float = 10_000.0
  cooldown_steps: int = 30_000
  total_steps: int = 177_000

  def __post_init__(self):
    for name in ('warmup_steps', 'cooldown_steps', 'total_steps'):
      value = getattr(self, name)
      if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(
            f'RsqrtSchedule.{name}={value!r}: expected an integer >= 0.')
    if self.total_steps <= 0:
      raise ValueError(
          f'RsqrtSchedule.total_steps={self.total_steps}: expected > 0.')
    if not self.timescale > 0:
      raise ValueError(
          f'RsqrtSchedule.timescale={self.timescale!r}: expected > 0.')
    if self.warmup_steps + self.cooldown_steps > self.total_steps:
      raise ValueError(
          f'RsqrtSchedule: warmup_steps={self.warmup_steps} + cooldown_steps='
          f'{self.cooldown_steps} exceeds total_steps={self.total_steps}; '
          'expected warm-up and cool-down to fit inside training.')

  def value_at(self, step: jax.Array) -> jax.Array:
    """Returns the learning-rate multiplier at `step` (float32 scalar)."""
    s = jnp.asarray(step).astype(jnp.float32)
    warmup = float(self.warmup_steps)
    value = jnp.where(
        s >= warmup,
        jax.lax.rsqrt(1.0 + (s - warmup) / float(self.timescale)),
        1.0)
    if self.warmup_steps:
      value *= jnp.minimum(1.0, s / warmup)
    if self.cooldown_steps:
      value *= jnp.clip(
          (float(self.total_steps) - s) / float(self.cooldown_steps), 0.0, 1.0)
    return value.astype(jnp.float32)
