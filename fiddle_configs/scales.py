# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Run sizes: the batch, schedule and intervals of each job kind (`Run`) and
the model, resolution and mesh of each size (`Scale`, `SCALES`).

`fiddle_configs.common` re-exports every name here; recipes use
`common.scale(size)`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping


@dataclasses.dataclass(frozen=True, kw_only=True)
class Run:
  """Batch, schedule and intervals of one kind of job (keyword fields only:
  `Run(batch_size=64, steps=2000, ...)`).

  Attributes:
    batch_size: global batch.
    steps: training steps.
    learning_rate: peak learning rate.
    warmup: linear warm-up steps.
    cooldown: linear cool-down steps (ending at `steps`).
    timescale: rsqrt timescale.
    weight_decay: decoupled weight decay of the body.
    head_weight_decay: decoupled weight decay of the head.
    summary_every: summary (and progress line) interval in steps.
    eval_every: evaluation interval in steps.
    checkpoint_every: checkpoint interval in steps.
  """

  batch_size: int
  steps: int
  learning_rate: float
  warmup: int
  cooldown: int
  timescale: int
  weight_decay: float
  head_weight_decay: float
  summary_every: int
  eval_every: int
  checkpoint_every: int


@dataclasses.dataclass(frozen=True)
class Scale:
  """One size: model, resolution, and the runs at that size.

  Attributes:
    variant: size-table variant with patch ('Ti/8', 'B/16', '22B/14').
    model: encoder overrides on top of the variant (width, depth, pooling,
      scan, remat).
    image_size: pretraining resolution (pixels, square).
    pretrain: the pretraining run.
    transfer: the warm-started runs (fine-tune, probe, distillation, LiT).
    eval_examples: images per eval split of the procedural data.
    mesh: ICI mesh (replica, data, mdl).
    dtype: forward-pass dtype.
  """

  variant: str
  model: Mapping[str, Any]
  image_size: int
  pretrain: Run
  transfer: Run
  eval_examples: int
  mesh: tuple[int, int, int] = (1, 1, 1)
  dtype: str = 'float32'


# Unrolled blocks (scan=False) below paper scale. GAP at the CPU sizes: MAP
# learned slower there (0.25 vs 0.30 test top-1 after 150 tiny steps); the
# MAP head is pooling='map' away.
_SMALL = dict(pooling='gap', scan=False)

SCALES: dict[str, Scale] = {
    # Seconds: tests and smoke runs.
    'smoke': Scale(
        'Ti/8', dict(_SMALL, model_dims=32, num_layers=2, hidden_dims=64,
                     num_heads=2), image_size=16,
        pretrain=Run(
            batch_size=16, steps=6, learning_rate=1e-3, warmup=2, cooldown=2,
            timescale=2, weight_decay=1e-4, head_weight_decay=1e-3,
            summary_every=2, eval_every=3, checkpoint_every=3),
        transfer=Run(
            batch_size=16, steps=4, learning_rate=1e-3, warmup=2, cooldown=2,
            timescale=2, weight_decay=1e-4, head_weight_decay=1e-3,
            summary_every=2, eval_every=3, checkpoint_every=3),
        eval_examples=32),
    # CPU minutes: `make train` (4 x 128, 16 tokens of 8x8 px).
    'tiny': Scale(
        'Ti/8', dict(_SMALL, model_dims=128, num_layers=4, hidden_dims=512,
                     num_heads=4), image_size=32,
        pretrain=Run(
            batch_size=64, steps=2000, learning_rate=1e-3, warmup=100,
            cooldown=300, timescale=1000, weight_decay=1e-4,
            head_weight_decay=1e-3, summary_every=100, eval_every=500,
            checkpoint_every=500),
        transfer=Run(
            batch_size=64, steps=500, learning_rate=3e-4, warmup=50,
            cooldown=100, timescale=1000, weight_decay=1e-4,
            head_weight_decay=1e-3, summary_every=100, eval_every=250,
            checkpoint_every=250),
        eval_examples=512),
    # One accelerator: ViT-B/16 with the ViT-22B block.
    'b16': Scale(
        'B/16', dict(scan=False), image_size=224,
        pretrain=Run(
            batch_size=1024, steps=20_000, learning_rate=1e-3, warmup=1000,
            cooldown=2000, timescale=1000, weight_decay=0.01,
            head_weight_decay=3.0, summary_every=100, eval_every=1000,
            checkpoint_every=1000),
        transfer=Run(
            batch_size=512, steps=10_000, learning_rate=1e-3, warmup=500,
            cooldown=1000, timescale=1000, weight_decay=0.0,
            head_weight_decay=0.0, summary_every=100, eval_every=1000,
            checkpoint_every=1000),
        eval_examples=10_000),
    # The paper: ViT-22B/14, 1024 TPU v4 chips (mesh 64 x 16 is our choice).
    'paper': Scale(
        '22B/14', dict(scan=True, remat_policy='save_nothing'),
        image_size=224,
        pretrain=Run(
            batch_size=65_536, steps=177_000, learning_rate=1e-3, warmup=10_000,
            cooldown=30_000, timescale=10_000, weight_decay=0.01,
            head_weight_decay=3.0, summary_every=100, eval_every=1000,
            checkpoint_every=1000),
        transfer=Run(
            batch_size=512, steps=20_000, learning_rate=1e-3, warmup=500,
            cooldown=2000, timescale=1000, weight_decay=0.0,
            head_weight_decay=0.0, summary_every=100, eval_every=1000,
            checkpoint_every=1000),
        eval_examples=50_000, mesh=(1, 64, 16), dtype='bfloat16'),
}


def scale(size: str) -> Scale:
  """The Scale named `size`, with a clear error for an unknown name."""
  if size not in SCALES:
    raise ValueError(f'Unknown size {size!r}; expected one of '
                     f'{sorted(SCALES)}.')
  return SCALES[size]


def with_patch(variant: str, patch: int | None) -> str:
  """'Ti/8' with patch 4 -> 'Ti/4'."""
  return variant if patch is None else f'{variant.split("/")[0]}/{patch}'
