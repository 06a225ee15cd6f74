# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Launching Pax jobs and reading their summaries: one way, for every tool.

A job is `python -m vit22b_pax.main --fdl=config:<recipe call>
[--fdl=set:PATH=VALUE ...] --job_log_dir=DIR` in a subprocess; its metrics
are read back from the TensorBoard event files paxml writes under
`<job_log_dir>/summaries/<program>/`. Experiments are named as everywhere
else (`vit22b_pax.runtime.experiment.resolve`): a registered name or a recipe
call, built here with `recipe_call`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import subprocess
import sys
import time
from typing import Any, Callable, Mapping, Sequence


def recipe_call(recipe: Callable[..., Any] | str, **kwargs: Any) -> str:
  """The recipe call string --fdl=config: takes, e.g.
  recipe_call(pretrain.pretrain, size='tiny') ->
  "fiddle_configs.pretrain.pretrain(size='tiny')"."""
  name = (recipe if isinstance(recipe, str) else
          f'{recipe.__module__}.{recipe.__name__}')
  args = ','.join(f'{k}={v!r}' for k, v in kwargs.items())
  return f'{name}({args})'


def fdl_config(experiment: str) -> str:
  """A recipe call for a registered experiment name or a recipe call."""
  if '(' in experiment:
    return experiment
  from vit22b_pax.runtime import experiment as experiment_lib  # pylint: disable=g-import-not-at-top
  cls = type(experiment_lib.resolve(experiment))
  if not hasattr(cls, 'expression'):
    raise ValueError(f'{experiment!r} is not a recipe experiment.')
  return cls.expression()


@dataclasses.dataclass
class JobResult:
  """One finished (or failed) job.

  Attributes:
    job_log_dir: its log dir.
    returncode: process exit status.
    seconds: wall time.
    command: the command line.
    output: its console output (progress lines, warnings, errors).
  """

  job_log_dir: str
  returncode: int
  seconds: float
  command: list[str]
  output: str

  @property
  def ok(self) -> bool:
    return self.returncode == 0

  @property
  def error(self) -> str:
    """The last 'XxxError: ...' line of a failed job ('' if it finished)."""
    if self.ok:
      return ''
    found = re.findall(r'(\w+Error: .*)', self.output)
    return found[-1] if found else self.output[-2000:]


def command(experiment: str, job_log_dir: str,
            overrides: Sequence[str] = ()) -> list[str]:
  """The command line of one job (overrides are --fdl=set: assignments)."""
  return ([sys.executable, '-m', 'vit22b_pax.main',
           f'--fdl=config:{fdl_config(experiment)}'] +
          [f'--fdl=set:{o}' for o in overrides] +
          [f'--job_log_dir={job_log_dir}'])


def run_job(experiment: str, job_log_dir: str,
            overrides: Sequence[str] = (), *, devices: int = 1,
            timeout: int = 3600, echo: bool = True,
            env: Mapping[str, str] | None = None) -> JobResult:
  """Runs one experiment to completion (or failure) in a subprocess.

  Args:
    experiment: a registered name or a recipe call (`recipe_call`).
    job_log_dir: its job directory.
    overrides: 'path=value' assignments (--fdl=set:).
    devices: CPU devices the job sees (fake devices on a CPU host).
    timeout: seconds before the job is killed.
    echo: print the command and the job's progress lines.
    env: extra environment variables.
  """
  cmd = command(experiment, job_log_dir, overrides)
  full_env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3', **(env or {}))
  full_env['XLA_FLAGS'] = (
      f'--xla_force_host_platform_device_count={devices}')
  if echo:
    print('$ python ' + ' '.join(cmd[1:]), file=sys.stderr, flush=True)
  start = time.time()
  proc = subprocess.run(cmd, env=full_env, stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, text=True, timeout=timeout,
                        check=False)
  result = JobResult(job_log_dir, proc.returncode, time.time() - start, cmd,
                     proc.stdout)
  if echo:
    for line in proc.stdout.splitlines():
      if line.startswith('['):
        print('  ' + line, file=sys.stderr, flush=True)
    if not result.ok:
      print(f'  FAILED ({proc.returncode}): {result.error[:500]}',
            file=sys.stderr, flush=True)
  return result


def _accumulator(job_log_dir: str, program: str):
  from tensorboard.backend.event_processing import event_accumulator  # pylint: disable=g-import-not-at-top
  path = os.path.join(job_log_dir, 'summaries', program)
  if not os.path.isdir(path):
    raise ValueError(f'No summaries in {path!r}.')
  acc = event_accumulator.EventAccumulator(
      path, size_guidance={event_accumulator.TENSORS: 0,
                           event_accumulator.SCALARS: 0})
  acc.Reload()
  return acc


def _tensor_series(acc, tag: str) -> dict[int, float]:
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  series = {}
  for ev in acc.Tensors(tag):
    value = tf.make_ndarray(ev.tensor_proto)
    if value.shape == () and value.dtype.kind == 'f':
      series[ev.step] = float(value)
  return series


def read_all(job_log_dir: str, program: str = 'train'
             ) -> dict[str, dict[int, float]]:
  """{tag: {step: value}} of every scalar summary of one program."""
  acc = _accumulator(job_log_dir, program)
  tags = acc.Tags()
  out = {tag: _tensor_series(acc, tag) for tag in tags.get('tensors', [])}
  for tag in tags.get('scalars', []):
    out[tag] = {ev.step: ev.value for ev in acc.Scalars(tag)}
  return {tag: series for tag, series in out.items() if series}


def scalars(job_log_dir: str, program: str, tag: str) -> dict[int, float]:
  """{step: value} of one summary, e.g. ('eval_test_test', 'Metrics/accuracy')."""
  found = read_all(job_log_dir, program)
  if tag not in found:
    raise ValueError(
        f'No summary {tag!r} in {os.path.join(job_log_dir, "summaries", program)!r};'
        f' it has {sorted(found)}.')
  return found[tag]


def last_scalar(job_log_dir: str, program: str, tag: str) -> float:
  values = scalars(job_log_dir, program, tag)
  return values[max(values)]


def stats(values: Sequence[float]) -> dict:
  """Mean, sample standard deviation (n - 1), min, max and n."""
  values = [float(v) for v in values]
  if not values:
    raise ValueError('stats() needs at least one value.')
  n = len(values)
  mean = sum(values) / n
  std = (math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
         if n > 1 else 0.0)
  return dict(mean=mean, std=std, min=min(values), max=max(values), n=n)


def parse_cli(parse: Callable[[Sequence[str] | None], Any],
              argv: Sequence[str] | None) -> Any | None:
  """`parse(argv)`, or None after printing 'error: <message>' on stderr when
  it raises ValueError (the tool then exits 2)."""
  try:
    return parse(argv)
  except ValueError as e:
    print(f'error: {e}', file=sys.stderr)
    return None


def start_output(out: str, from_json: str | None) -> dict | None:
  """Creates the output folder `out`; returns the JSON a sweep wrote before
  (`--from_json`, to re-render its table) or None for a new sweep."""
  os.makedirs(out, exist_ok=True)
  if not from_json:
    return None
  with open(from_json) as f:
    return json.load(f)


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
