# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Runs `python -m paxml.main` (or vit22b_pax.main) in a subprocess for tests."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

from vit22b_pax.tools import runs

ROOT = pathlib.Path(__file__).resolve().parents[2]


def run_pax(args, *, devices: int = 1, module: str = 'paxml.main',
            timeout: int = 600, check: bool = True, env=None):
  """Runs a Pax job; returns the CompletedProcess (stdout+stderr merged)."""
  full_env = dict(os.environ, **(env or {}))
  full_env['XLA_FLAGS'] = f'--xla_force_host_platform_device_count={devices}'
  full_env['TF_CPP_MIN_LOG_LEVEL'] = '3'
  full_env['PYTHONPATH'] = os.pathsep.join(
      [str(ROOT)] + [p for p in full_env.get('PYTHONPATH', '').split(
          os.pathsep) if p])
  proc = subprocess.run([sys.executable, '-m', module] + list(args),
                        cwd=ROOT, env=full_env, stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, text=True, timeout=timeout)
  if check and proc.returncode != 0:
    raise AssertionError(f'{module} {args} failed ({proc.returncode}):\n'
                         f'{proc.stdout[-6000:]}')
  return proc


def scalars(job_log_dir, subdir: str, tag: str) -> dict[int, float]:
  """{step: value} of a TensorBoard scalar under summaries/<subdir>."""
  return runs.scalars(job_log_dir, subdir, tag)
