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
record of every library on the console. Under `python -m paxml.main` the
experiment class does the same through `attach_to_paxml_main()` (called when
`runtime/experiment.py` is imported, i.e. while paxml parses `--fdl=config:`
or imports an `--exp` module, and from the experiment's constructor); the job
directory is read from paxml's flags once they are parsed. Only process 0
prints progress.

Library records that are expected and harmless (`HARMLESS`: orbax's legacy
API notices, paxml's checkpoint-version note on warm starts) stay in
`pax.log` but not on the console.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Callable, Mapping

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


# Expected library records kept off the console (they stay in pax.log):
# orbax 0.5's notices about paxml's use of its legacy CheckpointManager API
# ("migrate by May 1st, 2024"; paxml 1.4.0 is the newest release), and
# paxml's error-level note that it skips its metadata shape check when a warm
# start restores a source (warm_start.validate has checked the shape of every
# variable the rules load, before anything ran).
HARMLESS = (
    'No registered CheckpointArgs found for handler type',
    'using deprecated legacy API',
    'train_state_unpadded_shape_dtype_struct',
)


class _Harmless(logging.Filter):

  def filter(self, record: logging.LogRecord) -> bool:
    try:
      text = record.getMessage()
    except Exception:  # pylint: disable=broad-except
      return True
    return not any(h in text for h in HARMLESS)


def quiet_harmless() -> None:
  """Drops the HARMLESS records at absl's logger (through which orbax and
  paxml log): for tools that print their own results and keep Python's
  default log handling (import_weights, predict, export)."""
  logger = logging.getLogger('absl')
  if not any(isinstance(f, _Harmless) for f in logger.filters):
    logger.addFilter(_Harmless())


class _DeferredFileHandler(logging.Handler):
  """Writes to `<job_log_dir>/logs/pax.log` once paxml has created the job
  directory; records before that are kept in memory and written then (so a
  run rejected by validation writes nothing, also not into the log of the
  run that holds the directory's lock).

  `job_log_dir` may be a function returning (job_log_dir, file name) or None
  while unknown (paxml's flags not parsed yet). A remote job directory gets
  no file: its records go to stderr, as paxml's default.
  """

  def __init__(self, job_log_dir: str | Callable[[], tuple[str, str] | None],
               capacity: int = 20000, name: str = 'pax.log',
               announce: bool = False):
    super().__init__(logging.DEBUG)
    self._resolve = job_log_dir if callable(job_log_dir) else None
    self._job_log_dir = None if callable(job_log_dir) else job_log_dir
    self._pending = []
    self._capacity = capacity
    self._file = None
    self._announce = announce
    self.path = (None if self._job_log_dir is None else
                 os.path.join(self._job_log_dir, 'logs', name))

  def _known(self) -> bool:
    if self._job_log_dir is None and self._resolve is not None:
      found = self._resolve()
      if found is not None:
        self._job_log_dir = found[0]
        self.path = os.path.join(found[0], 'logs', found[1])
    return self._job_log_dir is not None

  def emit(self, record: logging.LogRecord) -> None:
    try:
      msg = self.format(record)
    except Exception:  # pylint: disable=broad-except
      return
    if self._file is None:
      if self._known() and '://' in self._job_log_dir:
        sys.stderr.write('\n'.join(self._pending + [msg, '']))
        self._pending = []
        return
      if (not self._known() or not os.path.isdir(self._job_log_dir) or
          self._locked_by_other()):
        if len(self._pending) < self._capacity:
          self._pending.append(msg)
        return
      os.makedirs(os.path.dirname(self.path), exist_ok=True)
      self._file = open(self.path, 'a')
      if self._announce and jax.process_index() == 0:
        print(f'Log: {self.path}', file=sys.stderr, flush=True)
      self._file.write('\n'.join(self._pending + ['']))
      self._pending = []
    self._file.write(msg + '\n')
    self._file.flush()

  def _locked_by_other(self) -> bool:
    """The job directory's lock file exists and this process does not hold
    it: the directory belongs to another run (runtime/jobdir.py), whose log
    this run must not write into."""
    from vit22b_pax.runtime import jobdir  # pylint: disable=g-import-not-at-top
    return (os.path.exists(jobdir.lock_path(self._job_log_dir)) and
            not jobdir.held(self._job_log_dir))

  def close(self) -> None:
    if self._file is not None:
      self._file.close()
    super().close()


def route_logs(job_log_dir: str, verbose: bool = False,
               host: int | None = None, announce: bool = False
               ) -> str | None:
  """Full log to `<job_log_dir>/logs/pax.log`, WARNING+ to the console.

  Args:
    job_log_dir: the job's directory (local; remote job dirs keep paxml's
      default of logging everything to stderr).
    verbose: keep every record on the console too.
    host: this process's index in a multi-process run: processes other than
      0 log to `pax.host<N>.log` (given by the caller: JAX is not initialised
      yet).
    announce: print `Log: <path>` to stderr when the file is created.

  Returns:
    The log file path, or None when the log stays on stderr.
  """
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
  job_log_dir = os.fspath(job_log_dir)
  if verbose or '://' in job_log_dir:
    return None
  file_handler = _DeferredFileHandler(
      job_log_dir, name=f'pax.host{host}.log' if host else 'pax.log',
      announce=announce)
  _install(file_handler)
  return file_handler.path


_ROUTED: list[logging.Handler] = []


def _install(file_handler: _DeferredFileHandler) -> None:
  """File handler for everything, stderr for WARNING+ (HARMLESS left out),
  in place of absl's handler."""
  from absl import logging as absl_logging  # pylint: disable=g-import-not-at-top
  for handler in _ROUTED:  # A second routing replaces the first.
    logging.getLogger().removeHandler(handler)
    handler.close()
  _ROUTED.clear()
  root = logging.getLogger()
  absl_handler = absl_logging.get_absl_handler()
  file_handler.setFormatter(absl_logging.PythonFormatter())
  console = logging.StreamHandler(sys.stderr)
  console.setLevel(logging.WARNING)
  console.addFilter(_Harmless())
  console.setFormatter(absl_logging.PythonFormatter())
  root.removeHandler(absl_handler)
  root.addHandler(file_handler)
  root.addHandler(console)
  root.setLevel(logging.INFO)
  absl_logging.set_verbosity(absl_logging.INFO)
  logging.captureWarnings(True)
  _ROUTED.extend([file_handler, console])


def routed() -> bool:
  """Whether route_logs / attach_to_paxml_main took over the log."""
  return bool(_ROUTED)


def _under_paxml_main() -> bool:
  main = sys.modules.get('__main__')
  spec = getattr(main, '__spec__', None)
  return getattr(spec, 'name', None) == 'paxml.main'


def _paxml_job() -> tuple[str, str] | None:
  """(--job_log_dir, log file name) once paxml.main's flags are parsed."""
  from absl import flags  # pylint: disable=g-import-not-at-top
  fv = flags.FLAGS
  if not fv.is_parsed() or 'job_log_dir' not in fv:
    return None
  job = fv['job_log_dir'].value
  if not job:
    return None
  host = (fv['host_idx'].value if 'multiprocess_gpu' in fv and
          fv['multiprocess_gpu'].value and 'host_idx' in fv else None)
  return os.fspath(job), f'pax.host{host}.log' if host else 'pax.log'


def attach_to_paxml_main() -> bool:
  """Under `python -m paxml.main`: the console of `vit22b_pax.main`.

  paxml's log goes to `<job_log_dir>/logs/pax.log` (the directory is read
  from paxml's flags once parsed; records before that are kept and written
  then), WARNING+ stays on the console. Does nothing in other programs or
  when the log is already routed. Returns whether it routed the log now.
  """
  if routed() or not _under_paxml_main():
    return False
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
  _install(_DeferredFileHandler(_paxml_job, announce=True))
  return True
