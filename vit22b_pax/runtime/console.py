# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""What a run prints: progress lines from the programs, logs to a file.

The train and eval programs (`runtime/train_program.py`,
`runtime/eval_program.py`) print their own progress lines from the metrics
they hold, so the console reads the same under `python -m paxml.main` and
`python -m vit22b_pax.main`:

  [train] step    100/2000 | loss 2.8649 | accuracy 0.1406 | steps/s 10.92 | MFU 15.5% | ETA 3m05s
  [eval test] step   2000 | loss 1.1965 | accuracy 0.6855 | acc5 1.0000

`route_logs()` (used by `vit22b_pax.main`) sends the whole absl/Python log
to `<job_log_dir>/logs/pax.log` and keeps every WARNING, ERROR and CRITICAL
record of every library on the console. Only process 0 prints progress.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Mapping

import jax

# Metrics shown on progress lines, in this order (all stay in TensorBoard).
SHOWN = ('loss', 'total_loss', 'accuracy', 'acc5', 'precision_at_1',
         'example_map', 'shape_bias', 'kd_loss', 'agreement',
         'zeroshot_accuracy', 'i2t_accuracy')


def _fmt(value: float) -> str:
  return f'{value:.4f}' if abs(value) < 1e4 else f'{value:.3e}'


def _duration(seconds: float) -> str:
  seconds = int(round(seconds))
  if seconds >= 3600:
    return f'{seconds // 3600}h{seconds % 3600 // 60:02d}m'
  return f'{seconds // 60}m{seconds % 60:02d}s'


def metrics_text(values: Mapping[str, float]) -> str:
  """'loss 2.8649 | accuracy 0.1406' for the SHOWN metrics present."""
  shown = [k for k in SHOWN if k in values]
  if 'loss' in values and 'total_loss' in shown:
    shown.remove('total_loss')  # The same number twice.
  return ' | '.join(f'{k} {_fmt(float(values[k]))}' for k in shown)


def train_line(step: int, total: int, values: Mapping[str, float],
               steps_per_sec: float | None = None,
               mfu: tuple[float, float] | None = None) -> str:
  """One training progress line (ETA from steps/s when known)."""
  # Shape bias is only meaningful on cue-conflict evaluations.
  values = {k: v for k, v in values.items() if k != 'shape_bias'}
  parts = [f'[train] step {step:>6}/{total}', metrics_text(values)]
  if steps_per_sec:
    parts.append(f'steps/s {steps_per_sec:.2f}')
  if mfu is not None:
    parts.append(f'{mfu[0] * 1e3:.1f} GFLOP/s | MFU {mfu[1]:.1%}')
  if steps_per_sec and total > step:
    parts.append(f'ETA {_duration((total - step) / steps_per_sec)}')
  return ' | '.join(p for p in parts if p)


def eval_line(split: str, step: int, values: Mapping[str, float]) -> str:
  return f'[eval {split}] step {step:>6} | ' + metrics_text(values)


def emit(line: str) -> None:
  """Prints a progress line on process 0 (stdout, flushed)."""
  if jax.process_index() == 0:
    print(line, flush=True)


class _DeferredFileHandler(logging.Handler):
  """Writes to `<job_log_dir>/logs/pax.log` once paxml has created the job
  directory; records before that are kept in memory and written then (so a
  run rejected by validation writes nothing)."""

  def __init__(self, job_log_dir: str, capacity: int = 20000):
    super().__init__(logging.DEBUG)
    self._job_log_dir = job_log_dir
    self._pending = []
    self._capacity = capacity
    self._file = None
    self.path = os.path.join(job_log_dir, 'logs', 'pax.log')

  def emit(self, record: logging.LogRecord) -> None:
    try:
      msg = self.format(record)
    except Exception:  # pylint: disable=broad-except
      return
    if self._file is None:
      if not os.path.isdir(self._job_log_dir):
        if len(self._pending) < self._capacity:
          self._pending.append(msg)
        return
      os.makedirs(os.path.dirname(self.path), exist_ok=True)
      self._file = open(self.path, 'a')
      self._file.write('\n'.join(self._pending + ['']))
      self._pending = []
    self._file.write(msg + '\n')
    self._file.flush()

  def close(self) -> None:
    if self._file is not None:
      self._file.close()
    super().close()


def route_logs(job_log_dir: str, verbose: bool = False) -> str | None:
  """Full log to `<job_log_dir>/logs/pax.log`, WARNING+ to the console.

  Args:
    job_log_dir: the job's directory (local; remote job dirs keep paxml's
      default of logging everything to stderr).
    verbose: keep every record on the console too.

  Returns:
    The log file path, or None when the log stays on stderr.
  """
  from absl import logging as absl_logging  # pylint: disable=g-import-not-at-top
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
  job_log_dir = os.fspath(job_log_dir)
  if verbose or '://' in job_log_dir:
    return None
  root = logging.getLogger()
  absl_handler = absl_logging.get_absl_handler()
  file_handler = _DeferredFileHandler(job_log_dir)
  file_handler.setFormatter(absl_logging.PythonFormatter())
  console = logging.StreamHandler(sys.stderr)
  console.setLevel(logging.WARNING)
  console.setFormatter(absl_logging.PythonFormatter())
  root.removeHandler(absl_handler)
  root.addHandler(file_handler)
  root.addHandler(console)
  root.setLevel(logging.INFO)
  absl_logging.set_verbosity(absl_logging.INFO)
  logging.captureWarnings(True)
  return file_handler.path
