# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Two processes on this machine as two hosts: paxml's own multi-process
flags (`--multiprocess_gpu --server_addr --num_hosts --host_idx`, which call
`jax.distributed.initialize`) with gloo CPU collectives
(`--jax_cpu_enable_gloo_collectives`), one CPU device per process, the data
axis across the hosts (`dcn_mesh=(1, 2, 1)`).

The smoke job runs 16 steps; the MFU summary at step 10 measures the CPU
matmul peak on each host (host 1 used to crash there putting data on
process 0's device). Host 1 is killed at step 11 (checkpoint 9 saved), host 0
must then stop too; both restart and resume from step 9 to 16. Every train
loss must equal the one-process run's (same global batch of 16)."""

import os
import signal
import socket
import tempfile

from absl.testing import absltest

from fiddle_configs import pretrain
from tests.experiments import pax_run
from tests.experiments import pausing
from vit22b_pax.runtime import checkpoints
from vit22b_pax.tools import runs

_STEPS = 16
_NO_EVAL = '--fdl=set:task.train.eval_interval_steps=0'
_STATE = {}


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(('localhost', 0))
    return s.getsockname()[1]


def _hosts(call, job):
  """Starts both hosts of one run."""
  port = _free_port()
  return [pausing.Running(
      [f'--fdl=config:{call}', _NO_EVAL, f'--job_log_dir={job}',
       '--multiprocess_gpu', f'--server_addr=localhost:{port}',
       '--num_hosts=2', f'--host_idx={i}',
       '--jax_cpu_enable_gloo_collectives'], env={'JAX_PLATFORMS': 'cpu'})
          for i in range(2)]


def setUpModule():
  tmp = tempfile.mkdtemp(prefix='vit22b_multihost_')
  _STATE['single'] = os.path.join(tmp, 'single')
  _STATE['multi'] = job = os.path.join(tmp, 'multi')
  single = pausing.Running([
      '--fdl=config:' + runs.recipe_call(pretrain.pretrain, size='smoke',
                                         steps=_STEPS), _NO_EVAL,
      f'--job_log_dir={_STATE["single"]}'])
  # Run 1: both hosts; host 1 pauses after step 11 and is killed there.
  paused = runs.recipe_call(pausing.paused, pause_at=11, pause_process=1,
                            size='smoke', steps=_STEPS, dcn_mesh=(1, 2, 1))
  first = _hosts(paused, job)
  try:
    first[1].wait_for(f'{pausing.MARKER} 11')
    _STATE['steps_at_kill'] = checkpoints.steps(job)
    os.kill(first[1].pid, signal.SIGKILL)
    first[1].wait()
    _STATE['host0_rc'] = first[0].wait(timeout=600)
  finally:
    for run in first:
      run.kill()
  _STATE['first'] = [r.output for r in first]
  # Run 2: both hosts again, same command without the pause.
  plain = runs.recipe_call(pretrain.pretrain, size='smoke', steps=_STEPS,
                           dcn_mesh=(1, 2, 1))
  second = _hosts(plain, job)
  try:
    _STATE['second_rc'] = [r.wait(timeout=900) for r in second]
  finally:
    for run in second:
      run.kill()
  _STATE['second'] = [r.output for r in second]
  single.wait(timeout=900)
  _STATE['single_rc'] = single.proc.returncode


def _log(host):
  name = 'pax.log' if host == 0 else f'pax.host{host}.log'
  with open(os.path.join(_STATE['multi'], 'logs', name)) as f:
    return f.read()


class MultiHostTest(absltest.TestCase):

  def test_first_run_reached_mfu_summary_and_stopped_with_killed_host(self):
    self.assertEqual(_STATE['steps_at_kill'], [0, 3, 6, 9])
    mfu = pax_run.scalars(_STATE['multi'], 'train', 'mfu')
    self.assertIn(10, mfu)
    self.assertGreater(mfu[10], 0.0)
    self.assertIn('MFU', _STATE['first'][0])
    self.assertNotEqual(_STATE['host0_rc'], 0)  # Stopped, did not hang.

  def test_both_hosts_resume_and_finish(self):
    self.assertEqual(_STATE['second_rc'], [0, 0], _STATE['second'][0][-3000:]
                     + _STATE['second'][1][-3000:])
    for host in (0, 1):
      log = _log(host)
      self.assertIn('JAX process: %d / 2' % host, log)
      self.assertIn('Model initial global_step=9', log)
    self.assertEqual(checkpoints.steps(_STATE['multi'])[-1], _STEPS)
    self.assertIn(f'[train] step     {_STEPS}/{_STEPS}', _STATE['second'][0])

  def test_losses_equal_single_process(self):
    self.assertEqual(_STATE['single_rc'], 0)
    single = pax_run.scalars(_STATE['single'], 'train', 'loss')
    multi = pax_run.scalars(_STATE['multi'], 'train', 'loss')
    self.assertEqual(sorted(multi), list(range(2, _STEPS + 1, 2)))
    self.assertEqual(sorted(single), sorted(multi))
    for step, loss in single.items():
      self.assertAlmostEqual(multi[step], loss, delta=1e-5 * abs(loss),
                             msg=f'step {step}')


if __name__ == '__main__':
  absltest.main()
