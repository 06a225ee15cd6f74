# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""ManifestCheckpointer: a manifest for every checkpoint this run commits
(sync or async), none for checkpoints it found; everything else delegated."""

import json
import os
import shutil
import tempfile

from absl.testing import absltest
from paxml import checkpoints as pax_checkpoints

from tests.runtime import restore_test
from vit22b_pax.runtime import checkpoints
from vit22b_pax.runtime import integrity
from vit22b_pax.runtime import verified_checkpointer

_STATE = {}


def setUpModule():
  template = tempfile.mkdtemp(prefix='verified_')
  restore_test._save(restore_test.TinyExperiment(), template, step=3, seed=1)  # pylint: disable=protected-access
  _STATE['step3'] = os.path.join(template, 'checkpoints',
                                 'checkpoint_00000003')


class _FakeCheckpointer(pax_checkpoints.TrainingCheckpointer):
  """Commits a copy of a real checkpoint at each save (or leaves it in an
  orbax temporary folder until wait_until_finished, as async saves do)."""

  def __init__(self, job, asynchronous=False):
    self.dir = os.path.join(job, 'checkpoints')
    self.asynchronous = asynchronous
    self.pending = []
    self.checkpoint_manager = 'the manager'

  def _save(self, step):
    final = os.path.join(self.dir, f'checkpoint_{step:08d}')
    if self.asynchronous:
      tmp = final + '.orbax-checkpoint-tmp-1'
      shutil.copytree(_STATE['step3'], tmp)
      self.pending.append((tmp, final))
    else:
      shutil.copytree(_STATE['step3'], final)

  def save_if_needed(self, step_i, partitioned_train_state,
                     train_state_unpadded_shape_dtype_struct=None,
                     train_state_pspecs=None, train_input_pipeline=None):
    if step_i % 5 == 0:
      self._save(step_i)

  def save_final(self, step_i, **kwargs):
    self._save(step_i)

  @property
  def step_to_restore(self):
    return 3

  def get_model_states(self, *args):
    return 'states'

  @property
  def checkpoint_type(self):
    return pax_checkpoints.CheckpointType.GDA

  def wait_until_finished(self):
    for tmp, final in self.pending:
      os.rename(tmp, final)
    self.pending = []

  def reached_preemption(self, step):
    return step == 42


def _job():
  job = tempfile.mkdtemp(prefix='verified_job_')
  shutil.copytree(_STATE['step3'], os.path.join(
      job, 'checkpoints', 'checkpoint_00000003'))
  return job


def _manifest(job, step):
  path = os.path.join(job, 'checkpoints', f'checkpoint_{step:08d}',
                      integrity.MANIFEST)
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return json.load(f)


class ManifestCheckpointerTest(absltest.TestCase):

  def test_manifests_for_own_saves_only(self):
    job = _job()
    ckpt = verified_checkpointer.ManifestCheckpointer(_FakeCheckpointer(job),
                                                      job)
    for step in range(3, 8):
      ckpt.save_if_needed(step, None)
    ckpt.save_final(7, partitioned_train_state=None)
    self.assertEqual(ckpt.saved_steps, [5, 7])
    self.assertIsNone(_manifest(job, 3))  # Found, not written by this run.
    for step in (5, 7):
      manifest = _manifest(job, step)
      self.assertEqual(manifest['step'], step)
      self.assertIn('crc32', manifest['files']['metadata/metadata'])
      self.assertTrue(integrity.verify(checkpoints.resolve(job, step)).ok)

  def test_async_commit_gets_its_manifest_later(self):
    job = _job()
    inner = _FakeCheckpointer(job, asynchronous=True)
    ckpt = verified_checkpointer.ManifestCheckpointer(inner, job, 'size')
    ckpt.save_if_needed(5, None)
    self.assertEqual(checkpoints.steps(job), [3])
    ckpt.wait_until_finished()
    self.assertEqual(ckpt.saved_steps, [5])
    self.assertNotIn('crc32', _manifest(job, 5)['files']['metadata/metadata'])

  def test_off_and_delegation(self):
    job = _job()
    ckpt = verified_checkpointer.ManifestCheckpointer(_FakeCheckpointer(job),
                                                      job, 'off')
    ckpt.save_if_needed(5, None)
    self.assertIsNone(_manifest(job, 5))
    self.assertEqual(ckpt.step_to_restore, 3)
    self.assertEqual(ckpt.get_model_states(None, None, None), 'states')
    self.assertEqual(ckpt.checkpoint_type,
                     pax_checkpoints.CheckpointType.GDA)
    self.assertTrue(ckpt.reached_preemption(42))
    self.assertEqual(ckpt.checkpoint_manager, 'the manager')


if __name__ == '__main__':
  absltest.main()
