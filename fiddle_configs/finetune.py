# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Fine-tuning and linear probing from a pretraining run.

Both load every variable but the head from the source run's checkpoint
(paxml's `init_from_checkpoint_rules`; a restarted job resumes from its own
checkpoints) and train a new zero-initialised softmax head. The linear probe
freezes the backbone: no gradient, no optimizer state, no weight decay, and
it comes out of training bit for bit unchanged.

Fine-tuning at another resolution resamples the position embedding once,
when the source is loaded (`posemb='zoom'`: big_vision's scipy zoom, order 1;
`'bicubic'`: timm's antialiased bicubic), and trains the full-resolution
table (`vit22b_pax.runtime.posemb_warm_start`); `posemb='runtime'` instead
keeps the source grid and resamples it bilinearly at every forward pass.

  python -m paxml.main --job_log_dir=runs/probe \
      --fdl=config:fiddle_configs.finetune.linear_probe(size='tiny',pretrain_dir='runs/pretrain')
"""

from __future__ import annotations

import copy
import re
from typing import Any, Mapping

from fiddle_configs import common
from fiddle_configs import pretrain
from vit22b_pax.runtime import posemb_warm_start

HEAD = r'params/softmax/.*'
POS_EMB = 'params/network/pos_emb'
# 'zoom' / 'bicubic': resampled once at load; 'runtime': at every forward.
POSEMB = ('zoom', 'bicubic', 'runtime')


def _posemb_loads(encoder: common.Config, image_size: int,
                  posemb: str) -> list[posemb_warm_start.PosembLoad]:
  """The encoder's table moved to the new patch grid (in place), and its
  load from the source's grid; none at the source's grid or for 'runtime'."""
  if posemb not in POSEMB:
    raise ValueError(f'Unknown posemb {posemb!r}; expected one of {POSEMB}.')
  patch = encoder.patch_size
  if image_size <= 0 or image_size % patch:
    raise ValueError(f'image_size {image_size} is not a positive multiple of '
                     f'the patch size {patch}.')
  grid, old = (image_size // patch,) * 2, tuple(encoder.pos_emb_grid)
  if posemb == 'runtime' or grid == old:
    return []
  encoder.pos_emb_grid = grid
  return [posemb_warm_start.PosembLoad(POS_EMB, POS_EMB, old, grid, posemb)]


def _transfer(kind: str, size: str, data: str, *, pretrain_dir: str | None,
              pretrain_step: int | None, image_size: int | None,
              num_classes: int | None, steps: int | None,
              learning_rate: float | None, seed: int,
              data_dir: str | None, source: Mapping[str, Any] | None,
              posemb: str = 'zoom',
              batch_size: int | None = None) -> common.Config:
  """A new softmax head on a source run's encoder ('finetune' or 'probe')."""
  src = pretrain.pretrain(size, **{'data': data, 'data_dir': data_dir,
                                   **(source or {})})
  scale = common.scale(size)
  run = scale.transfer
  steps = steps or run.steps
  if batch_size is not None and batch_size <= 0:
    raise ValueError(f'batch_size={batch_size} must be positive.')
  batch_size = batch_size or run.batch_size
  image_size = image_size or src.input_specs_provider.image_size
  num_classes = num_classes or common.DATASETS.get(data, (None, None))[1]
  if not num_classes:
    raise ValueError(f'data={data!r} needs num_classes.')

  # Model: the source encoder (its posemb table on the new patch grid, see
  # _posemb_loads) and a new zero-initialised softmax head.
  encoder = copy.deepcopy(src.task.model.network_tpl)
  loads = _posemb_loads(encoder, image_size, posemb)
  model = common.classifier_model(encoder, num_classes, 'softmax')

  # Optimizer: the transfer schedule; the probe trains the head only.
  learner = common.learner(
      run, steps, learning_rate=learning_rate,
      trainable=r'.*softmax.*' if kind == 'probe' else None)

  task = common.task(
      f'{kind}_{data}_{size}', model, learner, run, steps=steps, seed=seed,
      mesh=src.task.model.ici_mesh_shape, dtype=str(
          src.task.model.fprop_dtype))
  common.warm_start(task, src, pretrain_dir, [(r'params/(.*)', 'params/{}')],
                    ignore_rules=[HEAD] + [re.escape(l.target) for l in loads],
                    step=pretrain_step)
  if loads:
    posemb_warm_start.with_posemb_resampling(task, loads)

  inputs = common.dataset(
      data, image_size=image_size, num_classes=num_classes,
      batch_size=batch_size, seed=seed,
      eval_examples=scale.eval_examples, data_dir=data_dir)
  return common.experiment_config(task, inputs,
                                  frozen_encoder=kind == 'probe')


def finetune(size: str = 'tiny', data: str = 'procedural', *,
             pretrain_dir: str | None = None,
             pretrain_step: int | None = None,
             image_size: int | None = None, num_classes: int | None = None,
             steps: int | None = None, learning_rate: float | None = None,
             seed: int = 0, data_dir: str | None = None,
             source: Mapping[str, Any] | None = None,
             posemb: str = 'zoom',
             batch_size: int | None = None) -> common.Config:
  """Fine-tunes a pretraining run: new softmax head, every weight trains.

  Args:
    size: the source's size (`common.SCALES`); the run is its `transfer`.
    data: data to fine-tune on (see `common.DATASETS`).
    pretrain_dir: the source run's job_log_dir (required to run).
    pretrain_step: source checkpoint step; None = the latest.
    image_size: fine-tuning resolution (the position embedding is
      resampled to the new patch grid, see posemb); default the source's.
    num_classes: classes of the new head; default the data's.
    steps: training steps.
    learning_rate: peak learning rate.
    seed: data seed; the new head is initialised with seed 1234 + seed.
    data_dir: image_folder root, or Fashion-MNIST / TFDS data directory.
    source: more arguments of the source's `pretrain.pretrain` call (those
      that shaped its model, e.g. {'model': {...}, 'data': 'tfds'}).
    posemb: at another resolution, 'zoom' (default: resampled once at load
      as big_vision does, then a full-resolution table is trained),
      'bicubic' (once at load as timm does) or 'runtime' (the source table
      is kept and resampled bilinearly at every forward pass).
    batch_size: global training batch; default the size's transfer batch
      (e.g. 512 at 'b16': pass a small one on a CPU).
  """
  return _transfer('finetune', size, data, pretrain_dir=pretrain_dir,
                   pretrain_step=pretrain_step, image_size=image_size,
                   num_classes=num_classes, steps=steps,
                   learning_rate=learning_rate, seed=seed, data_dir=data_dir,
                   source=source, posemb=posemb, batch_size=batch_size)


def linear_probe(size: str = 'tiny', data: str = 'procedural', *,
                 pretrain_dir: str | None = None,
                 pretrain_step: int | None = None,
                 num_classes: int | None = None, steps: int | None = None,
                 learning_rate: float = 1e-2, seed: int = 0,
                 data_dir: str | None = None,
                 source: Mapping[str, Any] | None = None,
                 batch_size: int | None = None) -> common.Config:
  """A linear probe on frozen features of a pretraining run.

  Args as `finetune` (no image_size: the probe reads features at the
  source's resolution); learning_rate defaults to 1e-2 (head only).
  """
  return _transfer('probe', size, data, pretrain_dir=pretrain_dir,
                   pretrain_step=pretrain_step, image_size=None,
                   num_classes=num_classes, steps=steps,
                   learning_rate=learning_rate, seed=seed, data_dir=data_dir,
                   source=source, batch_size=batch_size)
