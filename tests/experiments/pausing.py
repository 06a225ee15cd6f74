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


class Running:
  """A paxml run in a subprocess whose output lines are collected as they
  come (stdout and stderr merged)."""

  def __init__(self, args, *, module: str = 'vit22b_pax.main',
               devices: int = 1, env=None):
    import pathlib  # pylint: disable=g-import-not-at-top
    import subprocess  # pylint: disable=g-import-not-at-top
    import sys  # pylint: disable=g-import-not-at-top
    import threading  # pylint: disable=g-import-not-at-top
    root = pathlib.Path(__file__).resolve().parents[2]
    full_env = dict(os.environ, **(env or {}))
    full_env['XLA_FLAGS'] = (
        f'--xla_force_host_platform_device_count={devices}')
    full_env['TF_CPP_MIN_LOG_LEVEL'] = '3'
    full_env['PYTHONPATH'] = os.pathsep.join(
        [str(root)] + [p for p in full_env.get('PYTHONPATH', '').split(
            os.pathsep) if p])
    self.lines = []
    self._changed = threading.Condition()
    self.proc = subprocess.Popen(
        [sys.executable, '-m', module] + list(args), cwd=root, env=full_env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    self._reader = threading.Thread(target=self._read, daemon=True)
    self._reader.start()

  def _read(self):
    for line in self.proc.stdout:
      with self._changed:
        self.lines.append(line)
        self._changed.notify_all()
    with self._changed:
      self._changed.notify_all()

  @property
  def pid(self) -> int:
    return self.proc.pid

  @property
  def output(self) -> str:
    return ''.join(self.lines)

  def wait_for(self, text: str, timeout: float = 600) -> None:
    """Blocks until a line contains `text`; raises if the run ends first."""
    deadline = time.time() + timeout
    with self._changed:
      while not any(text in line for line in self.lines):
        if self.proc.poll() is not None and not self._reader.is_alive():
          raise AssertionError(f'Run ended (rc {self.proc.returncode}) '
                               f'before {text!r}:\n{self.output[-6000:]}')
        if time.time() > deadline:
          raise AssertionError(f'No {text!r} after {timeout} s:\n'
                               f'{self.output[-6000:]}')
        self._changed.wait(timeout=1.0)

  def wait(self, timeout: float = 600) -> int:
    rc = self.proc.wait(timeout=timeout)
    self._reader.join(timeout=10)
    return rc

  def kill(self) -> None:
    if self.proc.poll() is None:
      self.proc.kill()
      self.proc.wait()
