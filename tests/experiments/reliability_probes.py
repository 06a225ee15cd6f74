# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""The reliability probes of docs/reliability.md, on real runs (not a test).

  PYTHONPATH=$PWD .venv/bin/python tests/experiments/reliability_probes.py \
      single OUT_DIR          # kill -9 / SIGTERM at 251, busy dir, damage,
                              # warm start into its source, other model, done
  ... multihost OUT_DIR REF   # 2 processes, 300 steps, vs REF (= OUT_DIR/ref
                              # of `single`)
  ... multihost_sigterm OUT_DIR   # SIGTERM to host 1 of a 2-process run

The smoke model on procedural data, 300 steps, checkpoint / eval every 100,
progress every 50 (the setting of docs/reliability.md's measurements).
Prints one JSON object per probe and writes OUT_DIR/<probe>.json. A measurement script, not a test: pytest
collects only `*_test.py`, and nothing here runs on import.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sys
import time

import numpy as np

from tests.experiments import pax_run
from tests.experiments import pausing
from vit22b_pax.runtime import checkpoints
from vit22b_pax.runtime import integrity

SETS = ['--fdl=set:task.train.save_interval_steps=100',
        '--fdl=set:task.train.eval_interval_steps=100',
        '--fdl=set:task.train.summary_interval_steps=50']
PLAIN = "fiddle_configs.pretrain.pretrain(size='smoke', steps=300)"
PAUSED = ("tests.experiments.pausing.paused(pause_at=251, size='smoke', "
          'steps=300)')
CHUNK = 'state/mdl_vars.params.network.patch_w/0.0.0.0'


def _run(job, call=PLAIN, extra=(), check=True):
  start = time.time()
  proc = pax_run.run_pax([f'--fdl=config:{call}', f'--job_log_dir={job}',
                          *SETS, *extra], module='vit22b_pax.main',
                         check=check)
  return proc, time.time() - start


def _lines(text, *words):
  return [l for l in text.splitlines() if any(w in l for w in words)]


def compare(ref, job):
  """Arrays of the two final checkpoints that differ, and input states."""
  a, b = checkpoints.resolve(ref), checkpoints.resolve(job)
  names = checkpoints.stored_arrays(a)
  differ = [n for n in names if not np.array_equal(
      checkpoints.read_array(a, n), checkpoints.read_array(b, n))]
  states = [(p.name, p.read_text(), (b.path / 'train_input' / p.name)
             .read_text()) for p in (a.path / 'train_input').iterdir()]
  return {'steps': [a.step, b.step], 'arrays': len(names),
          'differ': len(differ), 'input_state': states}


def final_loss(job):
  losses = pax_run.scalars(job, 'train', 'loss')
  return losses[max(losses)]


def _paused(job):
  run = pausing.Running([f'--fdl=config:{PAUSED}', f'--job_log_dir={job}',
                         *SETS])
  run.wait_for(f'{pausing.MARKER} 251')
  return run


def _damages():
  def empty(d):
    for name in os.listdir(d):
      path = os.path.join(d, name)
      if os.path.isdir(path):
        shutil.rmtree(path)
      else:
        os.remove(path)

  def truncate(path, size):
    with open(path, 'r+b') as f:
      f.truncate(size)

  return {
      'deleted_chunk': lambda d: os.remove(f'{d}/{CHUNK}'),
      'truncated_chunk': lambda d: truncate(f'{d}/{CHUNK}', 10),
      'removed_zarray': lambda d: os.remove(
          f'{d}/{os.path.dirname(CHUNK)}/.zarray'),
      'truncated_metadata': lambda d: truncate(f'{d}/metadata/metadata', 100),
      'empty_dir': empty,
  }


def single(out):
  results = {}
  ref = f'{out}/ref'
  _, seconds = _run(ref)
  results['reference'] = {'seconds': seconds, 'steps': checkpoints.steps(ref),
                          'final_loss': final_loss(ref)}
  print(json.dumps(results['reference']), flush=True)

  job = f'{out}/kill9'
  run = _paused(job)
  at_kill = checkpoints.steps(job)
  os.kill(run.pid, signal.SIGKILL)
  run.wait()
  proc, _ = _run(job)
  results['kill9'] = {'steps_at_kill': at_kill,
                      'lock': _lines(proc.stdout, 'Took over the lock'),
                      'compare': compare(ref, job),
                      'final_loss': final_loss(job)}
  print(json.dumps(results['kill9']), flush=True)

  job = f'{out}/sigterm'
  run = _paused(job)
  second, second_seconds = _run(job, check=False)
  start = time.time()
  run.proc.send_signal(signal.SIGTERM)
  rc = run.wait()
  exit_seconds = time.time() - start
  steps_after = checkpoints.steps(job)
  _run(job)
  results['sigterm'] = {
      'rc': rc, 'seconds_to_exit': exit_seconds, 'steps_after': steps_after,
      'message': _lines(run.output, '[preempted]'),
      'second_run': {'rc': second.returncode, 'seconds': second_seconds,
                     'message': _lines(second.stdout, 'in use by another')},
      'compare': compare(ref, job)}
  print(json.dumps(results['sigterm']), flush=True)

  results['damage'] = {}
  for name, damage in _damages().items():
    job = f'{out}/damage_{name}'
    shutil.copytree(ref, job)
    damage(f'{job}/checkpoints/checkpoint_00000300')
    intact, damaged = integrity.newest_intact(f'{job}/checkpoints')
    results['damage'][name] = {'problem': damaged[0].describe(),
                               'fallback_step': intact.step}
  job = f'{out}/damage_deleted_chunk'
  proc, _ = _run(job)
  results['damage_end_to_end'] = {
      'lines': _lines(proc.stdout, 'is damaged', 'Resuming'),
      'compare': compare(ref, job)}
  print(json.dumps(results['damage']), flush=True)
  print(json.dumps(results['damage_end_to_end']), flush=True)

  before = sorted(os.listdir(f'{ref}/checkpoints'))
  finetune = ("fiddle_configs.finetune.finetune(size='smoke', "
              f"pretrain_dir='{ref}', steps=320)")
  proc, seconds = _run(ref, call=finetune, check=False)
  results['warm_start_into_source'] = {
      'rc': proc.returncode, 'seconds': seconds,
      'error': _lines(proc.stdout, 'ValueError')[-1:],
      'checkpoints_before': before,
      'checkpoints_after': sorted(os.listdir(f'{ref}/checkpoints'))}
  other = ("fiddle_configs.pretrain.pretrain(size='smoke', steps=300, "
           "model={'num_layers': 3})")
  proc, seconds = _run(ref, call=other, check=False)
  results['other_model'] = {'rc': proc.returncode, 'seconds': seconds,
                            'error': _lines(proc.stdout, 'ValueError')[-1:]}
  proc, seconds = _run(ref, check=False)
  results['done'] = {'rc': proc.returncode, 'seconds': seconds,
                     'lines': _lines(proc.stdout, 'nothing to train')}
  for key in ('warm_start_into_source', 'other_model', 'done'):
    print(json.dumps(results[key]), flush=True)
  return results


def _hosts(job, call, extra=()):
  with socket.socket() as s:
    s.bind(('localhost', 0))
    port = s.getsockname()[1]
  return [pausing.Running(
      [f'--fdl=config:{call}', *extra, f'--job_log_dir={job}',
       '--multiprocess_gpu', f'--server_addr=localhost:{port}',
       '--num_hosts=2', f'--host_idx={i}',
       '--jax_cpu_enable_gloo_collectives'], env={'JAX_PLATFORMS': 'cpu'})
          for i in range(2)]


def multihost(out, ref):
  job = f'{out}/multihost'
  start = time.time()
  hosts = _hosts(job, "fiddle_configs.pretrain.pretrain(size='smoke', "
                 'steps=300, dcn_mesh=(1, 2, 1))', SETS)
  try:
    rcs = [h.wait(timeout=3600) for h in hosts]
  finally:
    for h in hosts:
      h.kill()
  one = pax_run.scalars(ref, 'train', 'loss')
  two = pax_run.scalars(job, 'train', 'loss')
  diff = {k: abs(one[k] - two[k]) for k in one if k in two}
  result = {
      'rcs': rcs, 'seconds': time.time() - start,
      'steps': checkpoints.steps(job), 'loss_steps': sorted(two),
      'max_abs_loss_diff': max(diff.values()),
      'max_rel_loss_diff': max(diff[k] / abs(one[k]) for k in diff),
      'final_loss': [one[300], two[300]],
      'mfu': pax_run.scalars(job, 'train', 'mfu'),
      'eval_accuracy': [
          pax_run.scalars(d, 'eval_test_test', 'Metrics/accuracy')
          for d in (ref, job)],
      'progress': _lines(hosts[0].output, '[train] step    300')}
  print(json.dumps(result), flush=True)
  return {'multihost': result}


def multihost_sigterm(out):
  job = f'{out}/multihost_sigterm'
  hosts = _hosts(job, "fiddle_configs.pretrain.pretrain(size='smoke', "
                 'steps=3000, dcn_mesh=(1, 2, 1))',
                 ['--fdl=set:task.train.eval_interval_steps=0',
                  '--fdl=set:task.train.summary_interval_steps=50',
                  '--fdl=set:task.train.save_interval_steps=1000'])
  try:
    hosts[0].wait_for('[train] step    100/', timeout=2400)
    start = time.time()
    os.kill(hosts[1].pid, signal.SIGTERM)
    rcs = [h.wait(timeout=600) for h in hosts]
  finally:
    for h in hosts:
      h.kill()
  result = {'rcs': rcs, 'seconds_to_exit': time.time() - start,
            'steps': checkpoints.steps(job),
            'lines': [_lines(h.output, 'Preemption', '[preempted]')
                      for h in hosts]}
  print(json.dumps(result), flush=True)
  return {'multihost_sigterm': result}


def main(argv):
  kind, out = argv[1], argv[2]
  os.makedirs(out, exist_ok=True)
  if kind == 'single':
    results = single(out)
  elif kind == 'multihost':
    results = multihost(out, argv[3])
  elif kind == 'multihost_sigterm':
    results = multihost_sigterm(out)
  else:
    raise ValueError(f'Unknown probe {kind!r}; expected single, multihost '
                     'or multihost_sigterm.')
  with open(os.path.join(out, f'{kind}.json'), 'w') as f:
    json.dump(results, f, indent=1)


if __name__ == '__main__':
  main(sys.argv)
