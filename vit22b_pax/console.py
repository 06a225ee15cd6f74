# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""A readable console for Pax runs.

paxml turns on compile logging (~550 lines a run) and the libraries print
deprecation noise. `quiet_console()` keeps a user's console to:
  * one progress line per summary interval (step, loss, accuracy, steps/s, MFU),
  * one line per evaluation (split, accuracy, shape bias, ...),
  * checkpoint saves/restores, and every WARNING/ERROR that is not known noise.
Everything still goes to TensorBoard; `--verbose_console` (vit22b_pax.main)
turns the filter off.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import warnings

_TASK_STATUS = re.compile(r'^Setting task status: step = (\d+), loss= (\S+?),? (.*)$')
_EVAL_AT = re.compile(r'^step: (\d+), eval test (\S+) loss: (\S+)')
_METRIC = re.compile(r'^  ([\w/.-]+)=(\S+)(?: \(weight=(\S+)\))?$')
_MFU = re.compile(r'^step (\d+): model_tflops_per_sec (\S+) mfu (\S+)')
_STEPS_PER_SEC = re.compile(r'^steps/sec: (\S+)')
_KEEP_INFO = (
    re.compile(r'^Model initial global_step=(\d+)'),
    re.compile(r'^\[PAX STATUS\]: (Saving checkpoint for final step|'
               r'Starting training loop)'),
    re.compile(r'Restor(ing|ed) .*checkpoint', re.IGNORECASE),
    re.compile(r'^NON-FINITE', re.IGNORECASE),
)
# Known harmless warnings (ENVIRONMENT.md "Noise a user sees").
_NOISE = (
    'No registered CheckpointArgs found', 'deprecated', 'Deprecat',
    'Explicitly requested dtype', 'cpu_feature_guard', 'oneDNN',
    'jax.experimental.maps', 'Legacy Fiddle flags API',
    'Finished tracing', 'Finished XLA compilation', 'Finished jaxpr',
    'Compiling ', 'Tracing ', 'not found in the registry',
    'Configured `CheckpointManager`', 'tensorstore',
    'An NVIDIA GPU may be present', 'Platform \'cuda\'', 'Unable to initialize backend',
    'Requested key', 'ocdbt', 'SaveArgs.aggregate', 'aggregate',
)
# Metrics shown on progress lines, in this order (others stay in TensorBoard).
_SHOWN = ('loss', 'accuracy', 'acc5', 'shape_bias', 'kd_loss', 'agreement',
          'zeroshot_accuracy', 'i2t_accuracy', 'mfu', 'model_tflops_per_sec')


class ProgressFilter(logging.Filter):
  """Turns paxml's INFO stream into compact progress lines on stderr.

  Train metrics come from the one-line task status paxml writes at each
  summary step; eval metrics from the eval program's block (its header line,
  then one '  name=value (weight=w)' line per metric, all from one thread).
  """

  def __init__(self, stream=None):
    super().__init__()
    self._stream = stream or sys.stderr
    self._blocks = {}  # thread id -> (step, split, {metric: value})
    self._eval_losses = []  # (step, loss) of evals: their task status echoes.
    self._steps_per_sec = None
    self._mfu = None  # (model TFLOP/s, MFU) of the latest interval.
    self.last_eval: dict[str, dict[str, float]] = {}
    self.last_eval_step: int | None = None
    self.last_train: dict[str, float] = {}

  def _emit(self, text: str) -> None:
    print(text, file=self._stream, flush=True)

  def flush(self, thread=None) -> None:
    threads = list(self._blocks) if thread is None else [thread]
    for t in threads:
      if t not in self._blocks:
        continue
      step, split, values = self._blocks.pop(t)
      self._eval_losses.append((step, values.get('loss')))
      self.last_eval[split] = dict(values)
      self.last_eval_step = step
      self._emit(f'[eval {split}] step {step:>6} | ' + _join(values))

  def _train_line(self, step: int, loss: float, rest: str) -> None:
    for i, (s, l) in enumerate(self._eval_losses):
      if s == step and l is not None and abs(l - loss) <= 1e-5 * max(1, abs(l)):
        del self._eval_losses[i]  # An eval program's status, not training.
        return
    values = {'loss': loss}
    for item in rest.split(', '):
      key, _, value = item.partition('=')
      try:
        values[key.strip()] = float(value)
      except ValueError:
        pass
    self.last_train = values
    values.pop('shape_bias', None)  # Only meaningful on cue-conflict evals.
    line = f'[train] step {step:>6} | ' + _join(values)
    if self._steps_per_sec is not None:
      line += f' | steps/s {self._steps_per_sec:.2f}'
    if self._mfu is not None:
      line += f' | {self._mfu[0] * 1e3:.1f} GFLOP/s | MFU {self._mfu[1]:.1%}'
    self._emit(line)

  def filter(self, record: logging.LogRecord) -> bool:
    try:
      msg = record.getMessage()
    except Exception:  # pylint: disable=broad-except
      return True
    thread = record.thread
    if thread in self._blocks:
      if (m := _METRIC.match(msg)):
        try:
          self._blocks[thread][2][m.group(1)] = float(m.group(2))
        except ValueError:
          pass
        return False
      self.flush(thread)
    if (m := _EVAL_AT.match(msg)):
      self._blocks[thread] = (int(m.group(1)), m.group(2),
                              {'loss': float(m.group(3))})
      return False
    if (m := _TASK_STATUS.match(msg)):
      self._train_line(int(m.group(1)), float(m.group(2)), m.group(3))
      return False
    if (m := _MFU.match(msg)):
      self._mfu = (float(m.group(2)), float(m.group(3)))
      return False
    if (m := _STEPS_PER_SEC.match(msg)):
      self._steps_per_sec = float(m.group(1))
      return False
    if record.levelno >= logging.WARNING:
      return not any(n in msg for n in _NOISE)
    return any(p.search(msg) for p in _KEEP_INFO)


def _join(values: dict[str, float]) -> str:
  return ' | '.join(f'{k} {_fmt(values[k])}' for k in _SHOWN if k in values)


def _fmt(v: float) -> str:
  return f'{v:.4f}' if abs(v) < 1e4 else f'{v:.3e}'


def quiet_console() -> ProgressFilter:
  """Silences library noise; returns the installed progress filter."""
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
  warnings.filterwarnings('ignore', category=DeprecationWarning)
  warnings.filterwarnings('ignore', category=FutureWarning)
  warnings.filterwarnings('ignore', message='.*Explicitly requested dtype.*')
  warnings.filterwarnings('ignore', message='.*is deprecated.*')
  from absl import logging as absl_logging  # pylint: disable=g-import-not-at-top
  progress = ProgressFilter()
  handler = absl_logging.get_absl_handler()
  handler.addFilter(progress)
  for name in ('jax._src.dispatch', 'jax._src.interpreters.pxla',
               'jax._src.compiler', 'absl', 'orbax', 'tensorflow'):
    logging.getLogger(name).addFilter(progress)
  return progress
