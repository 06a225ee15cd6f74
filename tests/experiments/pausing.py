# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""A pretraining recipe whose train program pauses at one step, so a test can
kill or signal a real run at a known point (after a checkpoint, before the
next one).

  --fdl=config:tests.experiments.pausing.paused(pause_at=4, size='smoke')

The program is `ViT22BTrainProgram` unchanged except that, once the state has
reached step `pause_at`, it prints `PAUSED at step N pid P` and sleeps until
SIGTERM arrives (or forever, until killed). Everything the run computes and
saves is what the plain recipe computes and saves.
"""

from __future__ import annotations

import os
import time

import jax
from praxis import pax_fiddle

from fiddle_configs import pretrain
from vit22b_pax.runtime import preemption
from vit22b_pax.runtime import train_program

MARKER = 'PAUSED at step'


class PausingTrainProgram(train_program.ViT22BTrainProgram):
  """Pauses after the step that reaches `pause_at` (on `pause_process`, or
  every process when None)."""

  def __init__(self, *args, pause_at: int = 0,
               pause_process: int | None = None, **kwargs):
    super().__init__(*args, **kwargs)
    self.pause_at = pause_at
    self.pause_process = pause_process

  def run(self, state, step):
    output = super().run(state, step)
    if output.new_train_step == self.pause_at and (
        self.pause_process is None or
        jax.process_index() == self.pause_process):
      print(f'{MARKER} {self.pause_at} pid {os.getpid()}', flush=True)
      while not preemption.signalled():
        time.sleep(0.05)
    return output


def paused(pause_at: int, pause_process: int | None = None,
           **pretrain_args) -> pax_fiddle.Config:
  """`pretrain.pretrain(**pretrain_args)` with the pausing train program."""
  cfg = pretrain.pretrain(**pretrain_args)
  cfg.train_program = pax_fiddle.Config(
      PausingTrainProgram, pause_at=pause_at, pause_process=pause_process,
      peak_flops_per_chip=cfg.train_program.peak_flops_per_chip)
  return cfg
