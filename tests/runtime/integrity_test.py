# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""integrity.py on real paxml checkpoints (steps 3 and 7): every kind of
damage is detected, named by path, and the previous checkpoint is used; a
missing chunk is never read as zeros."""

import json
import os
import shutil
import tempfile
from unittest import mock

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tests.runtime import checkpoints_test
from tests.runtime import restore_test
from vit22b_pax.runtime import checkpoints
from vit22b_pax.runtime import integrity

_W = 'params/network/proj/linear/w'
_W_DIR = 'state/mdl_vars.params.network.proj.linear.w'
_STATE = {}


def setUpModule():
  template = tempfile.mkdtemp(prefix='integrity_')
  exp = restore_test.TinyExperiment()
  restore_test._save(exp, template, step=3, seed=1)  # pylint: disable=protected-access
  _, vars7 = restore_test._save(exp, template, step=7, seed=2)  # pylint: disable=protected-access
  _STATE.update(template=template, vars7=vars7)


def _job(manifests: bool = True) -> str:
  job = tempfile.mkdtemp(prefix='integrity_job_')
  shutil.copytree(_STATE['template'], job, dirs_exist_ok=True)
  if manifests:
    for ckpt in checkpoints.list_checkpoints(job):
      integrity.write_manifest(ckpt)
  return job


def _step_dir(job: str, step: int) -> str:
  return os.path.join(job, 'checkpoints', f'checkpoint_{step:08d}')


def _delete_chunk(path):
  target = os.path.join(path, _W_DIR, '0.0')
  os.remove(target)
  return target


def _truncate_chunk(path):
  target = os.path.join(path, _W_DIR, '0.0')
  with open(target, 'r+b') as f:
    f.truncate(os.path.getsize(target) // 2)
  return target


def _remove_zarray(path):
  target = os.path.join(path, _W_DIR, '.zarray')
  os.remove(target)
  return target


def _truncate_metadata(path):
  target = os.path.join(path, 'metadata', 'metadata')
  with open(target, 'r+b') as f:
    f.truncate(100)
  return target


def _empty(path):
  for name in os.listdir(path):
    full = os.path.join(path, name)
    shutil.rmtree(full) if os.path.isdir(full) else os.remove(full)
  return path


_DAMAGES = (('deleted_chunk', _delete_chunk), ('truncated_chunk',
                                                _truncate_chunk),
            ('removed_zarray', _remove_zarray),
            ('truncated_metadata', _truncate_metadata),
            ('empty_folder', _empty))


class IntegrityTest(parameterized.TestCase):

  def test_intact_checkpoints_verify(self):
    job = _job()
    for ckpt in checkpoints.list_checkpoints(job):
      for level in ('checksum', 'size'):
        verdict = integrity.verify(ckpt, level)
        self.assertTrue(verdict.ok, verdict.problems)
        self.assertTrue(verdict.manifest)
    # Without manifests the structural check passes them too.
    for ckpt in checkpoints.list_checkpoints(_job(manifests=False)):
      verdict = integrity.verify(ckpt)
      self.assertTrue(verdict.ok, verdict.problems)
      self.assertFalse(verdict.manifest)

  @parameterized.product(damage=_DAMAGES, manifests=(True, False))
  def test_damage_detected_and_previous_used(self, damage, manifests):
    name, damage_fn = damage
    job = _job(manifests)
    target = damage_fn(_step_dir(job, 7))
    ckpt7 = checkpoints.resolve(job, 7)
    verdict = integrity.verify(ckpt7)
    self.assertFalse(verdict.ok, name)
    self.assertIn(target, verdict.describe(), name)
    intact, damaged = integrity.newest_intact(job)
    self.assertEqual(intact.step, 3)
    self.assertEqual([v.ckpt.step for v in damaged], [7])
    chosen, skipped = integrity.select(job)
    self.assertEqual((chosen.step, len(skipped)), (3, 1))
    with self.assertRaisesRegex(ValueError, 'checkpoint_00000007 is damaged'):
      integrity.select(job, 7)

  def test_missing_chunk_never_reads_as_zeros(self):
    job = _job()
    target = _delete_chunk(_step_dir(job, 7))
    with self.assertRaisesRegex(ValueError, f'{target}.*is missing'):
      checkpoints.read_variable(checkpoints.resolve(job, 7), _W)
    # The intact one still reads exactly.
    np.testing.assert_array_equal(
        checkpoints.read_variable(checkpoints.resolve(job, 3), _W),
        checkpoints.read_variable(checkpoints.resolve(_STATE['template'], 3),
                                  _W))

  def test_same_size_corruption_needs_checksums(self):
    job = _job()
    target = os.path.join(_step_dir(job, 7), _W_DIR, '0.0')
    with open(target, 'r+b') as f:
      f.seek(20)
      byte = f.read(1)
      f.seek(20)
      f.write(bytes([byte[0] ^ 0xFF]))
    ckpt = checkpoints.resolve(job, 7)
    self.assertTrue(integrity.verify(ckpt, 'size').ok)
    self.assertIn('CRC-32 differs', integrity.verify(ckpt, 'checksum')
                  .describe())
    self.assertTrue(integrity.verify(ckpt, 'off').ok)

  def test_all_damaged_is_an_error(self):
    job = _job()
    _delete_chunk(_step_dir(job, 7))
    _truncate_metadata(_step_dir(job, 3))
    self.assertEqual(integrity.newest_intact(job)[0], None)
    with self.assertRaisesRegex(ValueError, 'Every checkpoint in .* is '
                                'damaged.*checkpoint_00000007.*'
                                'checkpoint_00000003'):
      integrity.select(job)

  def test_quarantine_moves_aside(self):
    job = _job()
    moved = integrity.quarantine(checkpoints.resolve(job, 7))
    self.assertEqual(str(moved), os.path.join(
        job, 'damaged_checkpoints', 'checkpoint_00000007'))
    self.assertEqual(checkpoints.steps(job), [3])
    shutil.copytree(_step_dir(_STATE['template'], 3), _step_dir(job, 7))
    again = integrity.quarantine(checkpoints.resolve(job, 7))
    self.assertEqual(again.name, 'checkpoint_00000007.1')
    self.assertTrue(moved.exists())

  def test_unreadable_manifest_is_damage(self):
    job = _job()
    path = os.path.join(_step_dir(job, 7), integrity.MANIFEST)
    with open(path, 'w') as f:
      f.write('{"files": ')
    self.assertIn('unreadable manifest',
                  integrity.verify(checkpoints.resolve(job, 7)).describe())

  def test_manifest_depends_only_on_the_files(self):
    # Two copies of the same checkpoint, manifests written at different
    # times: the manifests are equal byte for byte (no clock, no host).
    first, second = _job(), _job(manifests=False)
    path = os.path.join('checkpoints', 'checkpoint_00000007',
                        integrity.MANIFEST)
    with mock.patch('time.time', return_value=4e9):
      for ckpt in checkpoints.list_checkpoints(second):
        integrity.write_manifest(ckpt)
    with open(os.path.join(first, path), 'rb') as f, open(
        os.path.join(second, path), 'rb') as g:
      want, got = f.read(), g.read()
    self.assertEqual(got, want)
    self.assertEqual(sorted(json.loads(want)), ['files', 'format', 'step'])

  def test_bad_level(self):
    with self.assertRaisesRegex(ValueError, "'fast'.*checksum"):
      integrity.check_level('fast')

  def test_manifest_on_gcs_path(self):
    root = tempfile.mkdtemp(prefix='fake_gcs_')
    shutil.copytree(_STATE['template'], os.path.join(root, 'job'))
    for step in (3, 7):  # What orbax writes on GCS to mark a commit.
      for item in ('', 'metadata', 'state'):
        open(os.path.join(_step_dir(os.path.join(root, 'job'), step), item,
                          'commit_success.txt'), 'w').close()
    job = f'{checkpoints_test._BUCKET}/job'  # pylint: disable=protected-access
    with checkpoints_test.fake_gcs(root):
      ckpt = checkpoints.resolve(job, 7)
      integrity.write_manifest(ckpt)
      self.assertTrue(integrity.verify(ckpt).ok)
    _delete_chunk(os.path.join(root, 'job', 'checkpoints',
                               'checkpoint_00000007'))
    with checkpoints_test.fake_gcs(root):
      verdict = integrity.verify(checkpoints.resolve(job, 7))
      self.assertIn(f'missing file {job}/checkpoints/checkpoint_00000007/'
                    f'{_W_DIR}/0.0', verdict.problems)


if __name__ == '__main__':
  absltest.main()
