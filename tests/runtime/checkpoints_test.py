# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The checkpoint lister/reader on a real paxml checkpoint, on a local
directory and on a `gs://` path (epath's gcs backend mocked onto a local
folder: nothing here may use `os` paths)."""

import contextlib
import os
import shutil
import tempfile
from unittest import mock

from absl.testing import absltest
from etils import epath
from etils.epath import gpath
from etils.epath import testing as epath_testing
import numpy as np

from tests.runtime import restore_test
from vit22b_pax.runtime import checkpoints

_BUCKET = 'gs://vit22b-test-bucket'


@contextlib.contextmanager
def fake_gcs(root: str):
  """gs://vit22b-test-bucket/... served from the local folder `root`."""
  os_backend = epath.backend.os_backend

  def local(path):
    path = os.fspath(path)
    return path.replace(_BUCKET, root, 1) if path.startswith(_BUCKET) else path

  def forward(name):
    def fn(unused_original, path, *args, **kwargs):
      if name in ('copy', 'rename', 'replace'):
        args = (local(args[0]),) + args[1:]
      result = getattr(os_backend, name)(local(path), *args, **kwargs)
      if name in ('glob',):
        return [r.replace(root, _BUCKET, 1) for r in result]
      return result
    return fn

  names = ('copy', 'exists', 'glob', 'isdir', 'listdir', 'makedirs', 'mkdir',
           'open', 'remove', 'rename', 'replace', 'rmtree', 'stat', 'walk')
  # With TensorFlow installed epath sends gs:// to tf.io.gfile regardless
  # of its backend table, so mock_epath alone would not reach it.
  with mock.patch.object(gpath, '_is_tf_installed', lambda: False), \
      epath_testing.mock_epath(**{n: forward(n) for n in names}):
    yield


def setUpModule():
  job = tempfile.mkdtemp(prefix='ckpt_lister_')
  exp = restore_test.TinyExperiment()
  _, vars3 = restore_test._save(exp, job, step=3, seed=1)  # pylint: disable=protected-access
  _, vars7 = restore_test._save(exp, job, step=7, seed=2)  # pylint: disable=protected-access
  # An uncommitted (temporary) save and a stray file must not be listed.
  os.makedirs(os.path.join(
      job, 'checkpoints', 'checkpoint_00000009.orbax-checkpoint-tmp-123'))
  open(os.path.join(job, 'checkpoints', 'notes.txt'), 'w').close()
  _STATE.update(job=job, vars3=vars3, vars7=vars7)


_STATE = {}
_W = 'params/network/proj/linear/w'


class LocalTest(absltest.TestCase):

  def test_lists_committed_checkpoints(self):
    job = _STATE['job']
    self.assertEqual(checkpoints.steps(job), [3, 7])
    self.assertEqual(checkpoints.steps(os.path.join(job, 'checkpoints')),
                     [3, 7])
    self.assertEqual(checkpoints.resolve(job).step, 7)
    self.assertEqual(checkpoints.resolve(job, 3).step, 3)
    self.assertEqual(checkpoints.steps(os.path.join(job, 'nothing')), [])

  def test_variables_and_values(self):
    ckpt = checkpoints.resolve(_STATE['job'], 3)
    shapes = checkpoints.variables(ckpt)
    self.assertEqual(shapes[_W], ((192, 8), 'float32'))
    self.assertIn('params/softmax/logits_ffn/linear/w', shapes)
    np.testing.assert_array_equal(
        checkpoints.read_variable(ckpt, _W),
        np.asarray(_STATE['vars3']['params']['network']['proj']['linear']['w']))
    np.testing.assert_array_equal(
        checkpoints.read_variable(checkpoints.resolve(_STATE['job']), _W),
        np.asarray(_STATE['vars7']['params']['network']['proj']['linear']['w']))

  def test_errors_name_the_path(self):
    job = _STATE['job']
    with self.assertRaisesRegex(ValueError, r'step 5 not found .*\[3, 7\]'):
      checkpoints.resolve(job, 5)
    with self.assertRaisesRegex(ValueError, 'No checkpoint found in .*empty'):
      checkpoints.resolve(os.path.join(job, 'empty'))
    with self.assertRaisesRegex(ValueError, 'pretrain_dir'):
      checkpoints.resolve(None)
    with self.assertRaisesRegex(ValueError, "No variable 'params/nope'"):
      checkpoints.read_variable(checkpoints.resolve(job), 'params/nope')

  def test_match_rules(self):
    stored = checkpoints.variables(checkpoints.resolve(_STATE['job']))
    target = {'params/network/proj/linear/w': (192, 8),
              'params/head/w': (8, 3)}
    mapping = checkpoints.match_rules(target, stored,
                                      [(r'params/(network/.*)', 'params/{}')])
    self.assertEqual(mapping, {_W: _W})
    with self.assertRaisesRegex(ValueError, r'has shape \(192, 8\) there but '
                                r"'params/network/proj/linear/w' needs"):
      checkpoints.match_rules({_W: (192, 9)}, stored,
                              [(r'params/(.*)', 'params/{}')])
    with self.assertRaisesRegex(ValueError, 'no variable .*params/x'):
      checkpoints.match_rules({'params/y': (1,)}, stored,
                              [(r'params/y', 'params/x')])
    with self.assertRaisesRegex(ValueError, 'No variable of this experiment'):
      checkpoints.match_rules(target, stored, [(r'nothing', '{}')])


class GcsPathTest(absltest.TestCase):
  """The same job under gs://, read only through epath."""

  def test_lists_and_reads_metadata(self):
    root = tempfile.mkdtemp(prefix='fake_gcs_')
    shutil.copytree(_STATE['job'], os.path.join(root, 'job'))
    ckpts = os.path.join(root, 'job', 'checkpoints')
    # On GCS orbax marks a committed save with commit_success.txt (there is
    # no atomic rename), in the step folder and in each item folder; a folder
    # without it is an unfinished save.
    for step in (3, 7):
      for item in ('', 'metadata', 'state'):
        open(os.path.join(ckpts, f'checkpoint_{step:08d}', item,
                          'commit_success.txt'), 'w').close()
    shutil.copytree(os.path.join(ckpts, 'checkpoint_00000007'),
                    os.path.join(ckpts, 'checkpoint_00000011'))
    os.remove(os.path.join(ckpts, 'checkpoint_00000011',
                           'commit_success.txt'))
    job = f'{_BUCKET}/job'
    with fake_gcs(root):
      self.assertEqual(str(epath.Path(job)), job)
      self.assertEqual(checkpoints.steps(job), [3, 7])
      ckpt = checkpoints.resolve(job)
      self.assertEqual(str(ckpt.path), f'{job}/checkpoints/checkpoint_00000007')
      self.assertEqual(checkpoints.variables(ckpt)[_W], ((192, 8), 'float32'))
      with self.assertRaisesRegex(ValueError, 'No checkpoint found in '
                                  f"'{_BUCKET}/other/checkpoints'"):
        checkpoints.resolve(f'{_BUCKET}/other')


if __name__ == '__main__':
  absltest.main()
