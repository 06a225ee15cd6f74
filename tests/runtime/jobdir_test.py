# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""jobdir.py: the lock, and the checks validate() runs before paxml writes
anything (on real paxml checkpoints; through absl flags as paxml.main parses
them)."""

import json
import os
import shutil
import signal
import socket
import tempfile
import warnings

from absl.testing import absltest

from fiddle_configs import finetune
from fiddle_configs import pretrain
from tests.experiments import flag_paths
from tests.runtime import restore_test
from vit22b_pax.runtime import checkpoints
from vit22b_pax.runtime import experiment
from vit22b_pax.runtime import integrity
from vit22b_pax.runtime import jobdir
from vit22b_pax.runtime import warm_start
from vit22b_pax.tools import runs

_STATE = {}


def setUpModule():
  template = tempfile.mkdtemp(prefix='jobdir_')
  exp = restore_test.TinyExperiment()
  restore_test._save(exp, template, step=3, seed=1)  # pylint: disable=protected-access
  restore_test._save(exp, template, step=7, seed=2)  # pylint: disable=protected-access
  for ckpt in checkpoints.list_checkpoints(template):
    integrity.write_manifest(ckpt)
  _STATE['template'] = template
  _STATE['shapes'] = warm_start.model_shapes(
      exp.task().model, exp.get_input_specs_provider_params())


def _job() -> str:
  job = tempfile.mkdtemp(prefix='jobdir_job_')
  shutil.copytree(_STATE['template'], job, dirs_exist_ok=True)
  return job


def _task(steps: int):
  task_p = restore_test.TinyExperiment().task()
  task_p.train.num_train_steps = steps
  return task_p


def _prepare(job, steps=10, shapes=None, this='exp B'):
  return jobdir.prepare(job, task_p=_task(steps),
                        shapes_fn=lambda: shapes or _STATE['shapes'],
                        this=this)


def _fork_holder(job):
  """A child process that takes the lock and waits; returns its pid."""
  read, write = os.pipe()
  with warnings.catch_warnings():
    # JAX warns about fork; the child only makes os/fcntl calls.
    warnings.simplefilter('ignore', RuntimeWarning)
    pid = os.fork()
  if pid == 0:  # Child: only os/fcntl calls, then exit without cleanup.
    try:
      os.close(read)
      jobdir.acquire(job)
      os.write(write, b'locked')
      signal.pause()
    finally:
      os._exit(0)  # pylint: disable=protected-access
  os.close(write)
  assert os.read(read, 16) == b'locked'
  os.close(read)
  return pid


class LockTest(absltest.TestCase):

  def test_acquire_release(self):
    job = os.path.join(tempfile.mkdtemp(), 'new')
    self.assertIsNone(jobdir.acquire(job))
    holder = jobdir.holder(job)
    self.assertEqual((holder['pid'], holder['host']),
                     (os.getpid(), socket.gethostname()))
    self.assertIsNone(jobdir.acquire(job))  # Re-entrant.
    jobdir.release(job)
    self.assertTrue(os.path.exists(jobdir.lock_path(job)))
    jobdir.release(job)
    self.assertFalse(os.path.exists(jobdir.lock_path(job)))

  def test_live_holder_stops_second_run_then_stale_lock_taken_over(self):
    job = tempfile.mkdtemp()
    pid = _fork_holder(job)
    try:
      with self.assertRaisesRegex(
          ValueError, f'{job} is in use by another run: pid {pid} on host '
          f'{socket.gethostname()}'):
        jobdir.acquire(job)
    finally:
      os.kill(pid, signal.SIGKILL)
      os.waitpid(pid, 0)
    # The dead holder's lock file is still there; the kernel freed its lock.
    self.assertEqual(jobdir.holder(job)['pid'], pid)
    message = jobdir.acquire(job)
    self.assertIn(f'left by pid {pid}', message)
    self.assertIn('no longer running', message)
    self.assertEqual(jobdir.holder(job)['pid'], os.getpid())
    jobdir.release(job)


class SourceTest(absltest.TestCase):

  def test_job_dir_vs_warm_start_source(self):
    root = tempfile.mkdtemp()
    src = os.path.join(root, 'pretrain')
    ckpt_dir = os.path.join(src, 'checkpoints')
    for job, word in ((src, 'is'), (os.path.join(src, 'probe'), 'is inside'),
                      (root, 'contains'), (ckpt_dir, 'is inside')):
      with self.assertRaisesRegex(
          ValueError, f'job_log_dir {job} {word} the warm-start source run '
          f'{src}:.*delete'):
        jobdir.check_sources(job, [ckpt_dir])
    jobdir.check_sources(os.path.join(root, 'pretrain2'), [ckpt_dir])
    jobdir.check_sources(os.path.join(root, 'probe'), [ckpt_dir])
    jobdir.check_sources(src, [warm_start.UNSET])


class PrepareTest(absltest.TestCase):

  def tearDown(self):
    super().tearDown()
    jobdir._release_all()  # pylint: disable=protected-access

  def test_fresh_dir_is_locked_and_named(self):
    job = os.path.join(tempfile.mkdtemp(), 'job')
    self.assertIsNone(_prepare(job, this='exp A'))  # Nothing to resume.
    self.assertEqual(jobdir.holder(job)['pid'], os.getpid())
    with open(os.path.join(job, jobdir.IDENTITY_NAME)) as f:
      self.assertEqual(json.load(f)['experiment'], 'exp A')

  def test_resume_keeps_everything(self):
    job = _job()
    resumed = _prepare(job)
    self.assertEqual(checkpoints.steps(job), [3, 7])
    # The checkpoint the run resumes from (its first console line names it).
    self.assertEqual(resumed.step, 7)
    self.assertEqual(os.path.basename(str(resumed.path)),
                     'checkpoint_00000007')

  def test_other_experiment_named_in_one_line(self):
    job = _job()
    with open(os.path.join(job, jobdir.IDENTITY_NAME), 'w') as f:
      json.dump({'experiment': 'exp A'}, f)
    shapes = dict(_STATE['shapes'])
    shapes['params/network/proj/linear/w'] = (192, 16)
    with self.assertRaises(ValueError) as ctx:
      _prepare(job, shapes=shapes, this='exp B')
    message = str(ctx.exception)
    self.assertNotIn('\n', message)
    self.assertRegex(message, r'holds checkpoints of another experiment: exp '
                     r"A \(step 7\), not exp B; 'params/network/proj/linear/w'"
                     r' has shape \(192, 8\) there, \(192, 16\) here')
    self.assertFalse(os.path.exists(jobdir.lock_path(job)))
    self.assertEqual(checkpoints.steps(job), [3, 7])

  def test_nothing_to_train_exits_zero(self):
    job = _job()
    with self.assertRaises(jobdir.NothingToTrain) as ctx:
      _prepare(job, steps=7)
    self.assertEqual(ctx.exception.code, 0)
    self.assertIn('already at step 7 of 7, nothing to train',
                  ctx.exception.message)
    self.assertFalse(os.path.exists(jobdir.lock_path(job)))

  def test_damaged_newest_moved_aside(self):
    job = _job()
    step7 = os.path.join(job, 'checkpoints', 'checkpoint_00000007')
    os.remove(os.path.join(step7, 'metadata', 'metadata'))
    with self.assertLogs(level='WARNING') as logs:
      _prepare(job)
    text = '\n'.join(logs.output)
    self.assertIn(f'Checkpoint {step7} is damaged (missing file '
                  f'{step7}/metadata/metadata', text)
    self.assertIn('Resuming from step 3', text)
    self.assertEqual(checkpoints.steps(job), [3])
    self.assertTrue(os.path.isdir(os.path.join(
        job, 'damaged_checkpoints', 'checkpoint_00000007')))

  def test_all_damaged_refused_and_nothing_moved(self):
    job = _job()
    for step in (3, 7):
      os.remove(os.path.join(job, 'checkpoints', f'checkpoint_{step:08d}',
                             'state', '_sharding'))
    with self.assertRaisesRegex(ValueError, 'Every checkpoint in .* is '
                                'damaged, nothing to resume'):
      _prepare(job)
    self.assertEqual(checkpoints.steps(job), [3, 7])


class ValidateTest(absltest.TestCase):
  """Through ViT22BExperiment.validate() with paxml.main's flags."""

  def tearDown(self):
    super().tearDown()
    jobdir._release_all()  # pylint: disable=protected-access

  def _validate(self, call, job):
    exp = experiment.resolve(call)
    with flag_paths.parsed_global_flags([f'--job_log_dir={job}']):
      exp.validate()

  def test_warm_start_into_its_source_refused_before_writing(self):
    root = tempfile.mkdtemp()
    src = os.path.join(root, 'pretrain')
    call = runs.recipe_call(finetune.linear_probe, size='smoke',
                            pretrain_dir=src)
    for job in (src, os.path.join(src, 'probe')):
      with self.assertRaisesRegex(ValueError, 'warm-start source run'):
        self._validate(call, job)
    self.assertEqual(os.listdir(root), [])

  def test_other_experiment_checkpoints_refused(self):
    job = _job()  # TinyExperiment checkpoints.
    call = runs.recipe_call(pretrain.pretrain, size='smoke')
    with self.assertRaisesRegex(
        ValueError, r"another experiment: another experiment \(step 7\), not "
        r"ViT22BExperiment \(task 'pretrain_procedural_smoke'\); it has no "):
      self._validate(call, job)
    self.assertEqual(sorted(os.listdir(job)), ['checkpoints'])

  def test_other_modes_do_not_lock(self):
    job = os.path.join(tempfile.mkdtemp(), 'job')
    exp = experiment.resolve(runs.recipe_call(pretrain.pretrain,
                                              size='smoke'))
    with flag_paths.parsed_global_flags([f'--job_log_dir={job}',
                                         '--mode=eval']):
      exp.validate()
    self.assertFalse(os.path.exists(job))


if __name__ == '__main__':
  absltest.main()
