# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Faults on real runs (`python -m vit22b_pax.main`, smoke size, procedural
data, 6 steps, checkpoints at 0, 3, 6): kill -9 and SIGTERM between two
checkpoints, a second run on a busy job directory, a damaged newest
checkpoint (own run and warm-start source), a finished job. Every resumed
run must end bit-identical (every model variable, every optimizer state, the
input position) to the one uninterrupted run of the module, and its final
checkpoint directory must equal the uninterrupted run's file for file, byte
for byte (the integrity manifest included: it holds no wall-clock time)."""

import os
import shutil
import signal
import socket
import tempfile

from absl.testing import absltest
import numpy as np

from fiddle_configs import finetune
from fiddle_configs import pretrain
from tests.experiments import pax_run
from tests.experiments import pausing
from vit22b_pax.runtime import checkpoints
from vit22b_pax.runtime import integrity
from vit22b_pax.runtime import jobdir
from vit22b_pax.tools import runs

_PLAIN = runs.recipe_call(pretrain.pretrain, size='smoke')
_PAUSED = runs.recipe_call(pausing.paused, pause_at=4, size='smoke')
_CHUNK = 'state/mdl_vars.params.network.patch_w/0.0.0.0'
_STATE = {}


def _run(job, *extra, call=_PLAIN, check=True):
  return pax_run.run_pax([f'--fdl=config:{call}', f'--job_log_dir={job}',
                          *extra], module='vit22b_pax.main', check=check)


def _start_paused(job):
  run = pausing.Running([f'--fdl=config:{_PAUSED}', f'--job_log_dir={job}'])
  try:
    run.wait_for(f'{pausing.MARKER} 4')
  except BaseException:
    run.kill()
    raise
  return run


def _pax_log(job):
  with open(os.path.join(job, 'logs', 'pax.log')) as f:
    return f.read()


def _copy_of_reference(name):
  job = os.path.join(_STATE['tmp'], name)
  shutil.copytree(_STATE['ref'], job)
  return job


def _tree(root):
  """{path relative to root: bytes} for every file under `root`."""
  out = {}
  for folder, _, names in os.walk(root):
    for name in names:
      path = os.path.join(folder, name)
      with open(path, 'rb') as f:
        out[os.path.relpath(path, root)] = f.read()
  return out


def setUpModule():
  _STATE['tmp'] = tempfile.mkdtemp(prefix='vit22b_reliability_')
  _STATE['ref'] = os.path.join(_STATE['tmp'], 'reference')
  _STATE['ref_log'] = _run(_STATE['ref']).stdout


class ReliabilityTest(absltest.TestCase):

  def assert_same_final_state(self, job):
    """The last checkpoint of `job` equals the uninterrupted run's."""
    want, got = (checkpoints.resolve(_STATE['ref']),
                 checkpoints.resolve(job))
    self.assertEqual((got.step, want.step), (6, 6))
    names = checkpoints.stored_arrays(want)
    self.assertEqual(checkpoints.stored_arrays(got), names)
    self.assertGreater(len([n for n in names if n.startswith('opt_states')]),
                       40)
    for name in names:
      np.testing.assert_array_equal(checkpoints.read_array(got, name),
                                    checkpoints.read_array(want, name),
                                    err_msg=name)
    for path in (want.path / 'train_input').iterdir():
      self.assertEqual((got.path / 'train_input' / path.name).read_text(),
                       path.read_text())
    self.assertTrue(integrity.verify(got).manifest)
    self.assert_same_files(got.path, want.path)

  def assert_same_files(self, got, want):
    """`got` equals `want` file for file, byte for byte (the manifest too)."""
    got_files, want_files = _tree(got), _tree(want)
    self.assertEqual(sorted(got_files), sorted(want_files))
    self.assertIn(integrity.MANIFEST, want_files)
    self.assertGreater(len(want_files), 100)
    differ = [name for name in want_files
              if got_files[name] != want_files[name]]
    self.assertEqual(differ, [], f'files of {got} that differ from {want}')

  def test_reference_run_writes_manifests_and_releases_lock(self):
    self.assertEqual(checkpoints.steps(_STATE['ref']), [0, 3, 6])
    for ckpt in checkpoints.list_checkpoints(_STATE['ref']):
      verdict = integrity.verify(ckpt)
      self.assertTrue(verdict.ok and verdict.manifest, verdict.problems)
    self.assertFalse(os.path.exists(jobdir.lock_path(_STATE['ref'])))
    self.assertIn('[train] step      6/6', _STATE['ref_log'])

  def test_kill_9_between_checkpoints_resumes_bit_identical(self):
    job = os.path.join(_STATE['tmp'], 'kill9')
    run = _start_paused(job)
    self.assertEqual(checkpoints.steps(job), [0, 3])
    os.kill(run.pid, signal.SIGKILL)
    self.assertEqual(run.wait(), -signal.SIGKILL)
    self.assertEqual(jobdir.holder(job)['pid'], run.pid)  # Left behind.
    out = _run(job).stdout
    self.assertIn(f'Took over the lock of {job} left by pid {run.pid}', out)
    self.assertIn('Model initial global_step=3', _pax_log(job))
    self.assert_same_final_state(job)

  def test_sigterm_saves_current_step_busy_dir_refused_rerun_exact(self):
    job = os.path.join(_STATE['tmp'], 'sigterm')
    run = _start_paused(job)
    try:
      second = _run(job, check=False)
      self.assertNotEqual(second.returncode, 0)
      self.assertIn(f'Job directory {job} is in use by another run: pid '
                    f'{run.pid} on host {socket.gethostname()}',
                    second.stdout)
      self.assertEqual(checkpoints.steps(job), [0, 3])
      run.proc.send_signal(signal.SIGTERM)
      rc = run.wait()
    finally:
      run.kill()
    self.assertEqual(rc, 143, run.output[-3000:])
    self.assertIn('[preempted] SIGTERM: stopped at step 4 of 6; checkpoint '
                  f'step 4 saved', run.output)
    self.assertNotIn('Traceback', run.output)
    self.assertEqual(checkpoints.steps(job), [0, 3, 4])
    self.assertTrue(integrity.verify(checkpoints.resolve(job, 4)).manifest)
    self.assertFalse(os.path.exists(jobdir.lock_path(job)))
    _run(job)
    self.assertIn('Model initial global_step=4', _pax_log(job))
    self.assert_same_final_state(job)

  def test_damaged_newest_checkpoint_falls_back(self):
    job = _copy_of_reference('damaged')
    newest = os.path.join(job, 'checkpoints', 'checkpoint_00000006')
    os.remove(os.path.join(newest, _CHUNK))
    out = _run(job).stdout
    self.assertIn(f'Checkpoint {newest} is damaged (missing file '
                  f'{newest}/{_CHUNK}', out)
    self.assertIn('Resuming from step 3', out)
    self.assertTrue(os.path.exists(os.path.join(
        job, 'damaged_checkpoints', 'checkpoint_00000006', 'metadata')))
    self.assert_same_final_state(job)

  def test_finished_job_says_so_and_exits_0(self):
    out = _run(_STATE['ref']).stdout
    self.assertIn(f'{_STATE["ref"]}: already at step 6 of 6, nothing to '
                  'train', out)
    self.assertEqual(checkpoints.steps(_STATE['ref']), [0, 3, 6])

  def test_warm_start_skips_damaged_source_and_leaves_it_untouched(self):
    source = _copy_of_reference('source')
    newest = os.path.join(source, 'checkpoints', 'checkpoint_00000006')
    with open(os.path.join(newest, _CHUNK), 'r+b') as f:
      f.truncate(10)
    before = sorted((p, os.path.getsize(os.path.join(d, p)))
                    for d, _, files in os.walk(source) for p in files)
    probe = os.path.join(_STATE['tmp'], 'probe')
    call = runs.recipe_call(finetune.linear_probe, size='smoke',
                            pretrain_dir=source)
    # Keep one checkpoint: paxml's clean-up must only touch the probe's.
    out = _run(probe, '--fdl=set:task.train.save_max_to_keep=1',
               call=call).stdout
    self.assertIn(f'the newest checkpoint of {source}/checkpoints is '
                  'damaged', out)
    self.assertIn('loading step 3', out)
    after = sorted((p, os.path.getsize(os.path.join(d, p)))
                   for d, _, files in os.walk(source) for p in files)
    self.assertEqual(after, before)
    # The probe's own clean-up ran (step 3 deleted; orbax keeps step 0).
    self.assertEqual(checkpoints.steps(probe), [0, 4])
    name = 'params/network/patch_w'
    np.testing.assert_array_equal(
        checkpoints.read_variable(checkpoints.resolve(probe), name),
        checkpoints.read_variable(checkpoints.resolve(source, 3), name))


if __name__ == '__main__':
  absltest.main()
