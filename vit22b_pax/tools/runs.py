# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Launching Pax jobs and reading their summaries, for the results scripts.

A job is `python -m vit22b_pax.main --fdl_config=<experiment> --fdl.X=...`
in a subprocess; its metrics are read back from the TensorBoard event files
paxml writes under `<job_log_dir>/summaries/<program>/`.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from typing import Any, Mapping


@dataclasses.dataclass
class JobResult:
  """One finished (or failed) job.

  Attributes:
    job_log_dir: its log dir.
    returncode: process exit status.
    seconds: wall time.
    command: the command line.
    log_tail: last lines of its console output.
  """

  job_log_dir: str
  returncode: int
  seconds: float
  command: list[str]
  log_tail: str

  @property
  def ok(self) -> bool:
    return self.returncode == 0


def fdl_value(value: Any) -> str:
  """A constant as fiddle's legacy flags parse it (strings quoted)."""
  if isinstance(value, str):
    return repr(value)
  return str(value)


def run_job(experiment: str, job_log_dir: str,
            constants: Mapping[str, Any] | None = None, *,
            devices: int | None = None, timeout: int = 3600,
            echo: bool = True) -> JobResult:
  """Runs one experiment (dotted class name) with constant overrides."""
  cmd = [sys.executable, '-m', 'vit22b_pax.main',
         f'--fdl_config={experiment}', f'--job_log_dir={job_log_dir}']
  cmd += [f'--fdl.{k}={fdl_value(v)}' for k, v in (constants or {}).items()]
  env = dict(os.environ)
  if devices:
    env['XLA_FLAGS'] = f'--xla_force_host_platform_device_count={devices}'
  if echo:
    print('$ ' + ' '.join(cmd[1:]), file=sys.stderr, flush=True)
  start = time.time()
  proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, text=True, timeout=timeout)
  seconds = time.time() - start
  lines = proc.stdout.splitlines()
  if echo:
    for line in lines:
      if line.startswith('['):
        print('  ' + line, file=sys.stderr, flush=True)
  return JobResult(job_log_dir, proc.returncode, seconds, cmd,
                   '\n'.join(lines[-40:]))


def scalars(job_log_dir: str, program: str, tag: str) -> dict[int, float]:
  """{step: value} of one summary, e.g. ('eval_test_test', 'Metrics/accuracy')."""
  from tensorboard.backend.event_processing import event_accumulator  # pylint: disable=g-import-not-at-top
  path = os.path.join(job_log_dir, 'summaries', program)
  if not os.path.isdir(path):
    raise ValueError(f'No summaries in {path!r}.')
  acc = event_accumulator.EventAccumulator(
      path, size_guidance={event_accumulator.TENSORS: 0,
                           event_accumulator.SCALARS: 0})
  acc.Reload()
  tags = acc.Tags()
  if tag in tags.get('tensors', []):
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    return {ev.step: float(tf.make_ndarray(ev.tensor_proto))
            for ev in acc.Tensors(tag)}
  if tag in tags.get('scalars', []):
    return {ev.step: ev.value for ev in acc.Scalars(tag)}
  raise ValueError(f'No summary {tag!r} in {path!r}; it has '
                   f'{sorted(tags.get("tensors", []) + tags.get("scalars", []))}.')


def last_scalar(job_log_dir: str, program: str, tag: str) -> float:
  values = scalars(job_log_dir, program, tag)
  return values[max(values)]


def replace_section(path: str, marker: str, text: str) -> None:
  """Replaces the text between `<!-- marker -->` and `<!-- /marker -->` (or
  the single `<!-- marker -->` line) in a markdown file."""
  with open(path) as f:
    doc = f.read()
  start, end = f'<!-- {marker} -->', f'<!-- /{marker} -->'
  if start not in doc:
    raise ValueError(f'{path!r} has no {start!r} marker.')
  block = f'{start}\n{text.rstrip()}\n{end}'
  if end in doc:
    head, rest = doc.split(start, 1)
    doc = head + block + rest.split(end, 1)[1]
  else:
    doc = doc.replace(start, block, 1)
  with open(path, 'w') as f:
    f.write(doc)
