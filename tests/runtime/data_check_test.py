# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""runtime/data_check: data sources refused before anything is written."""

import os
import pathlib
import subprocess
import sys
import tempfile

from absl.testing import absltest
import numpy as np
from PIL import Image

from fiddle_configs import pretrain
from vit22b_pax.runtime import data_check

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _folder(layout):
  root = pathlib.Path(tempfile.mkdtemp(prefix='data_check_'))
  for split, classes in layout.items():
    for name, count in classes.items():
      (root / split / name).mkdir(parents=True)
      for i in range(count):
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(
            root / split / name / f'{i}.png')
  return str(root)


def _inputs(data_dir, **kwargs):
  cfg = pretrain.pretrain('smoke', data='image_folder', data_dir=data_dir,
                          num_classes=3, **kwargs)
  return list(cfg.train_datasets) + list(cfg.eval_datasets)


class CheckInputsTest(absltest.TestCase):

  def _error(self, data_dir):
    with self.assertRaises(ValueError) as ctx:
      data_check.check_inputs(_inputs(data_dir))
    message = str(ctx.exception)
    self.assertNotIn('\n', message)
    return message

  def test_good_folder_and_procedural_pass(self):
    data_check.check_inputs(_inputs(_folder(
        {'train': {'a': 1, 'b': 1}, 'test': {'a': 1}})))
    cfg = pretrain.pretrain('smoke')
    data_check.check_inputs(list(cfg.train_datasets) +
                            list(cfg.eval_datasets))

  def test_missing_data_dir(self):
    missing = os.path.join(tempfile.mkdtemp(), 'nope')
    message = self._error(missing)
    self.assertEqual(message, f"data_dir {missing!r} of input 'train' does "
                     'not exist.')

  def test_split_without_images(self):
    root = _folder({'train': {'a': 2}})
    os.makedirs(os.path.join(root, 'test', 'a'))
    message = self._error(root)
    self.assertIn(f"Image folder '{root}/test' has no class folders with "
                  '.png/.jpg/.jpeg images', message)

  def test_missing_split(self):
    root = _folder({'train': {'a': 2}})
    self.assertIn(f"'{root}/test' does not exist", self._error(root))

  def test_class_folder_outside_the_class_list(self):
    root = _folder({'train': {'a': 2}, 'test': {'a': 1, 'zebra': 1}})
    message = self._error(root)
    self.assertIn(f"Class folder(s) ['zebra'] in '{root}/test' are not in "
                  "the class list ['a']", message)


class EntryPointTest(absltest.TestCase):

  def test_one_line_and_nothing_written(self):
    base = tempfile.mkdtemp()
    job, missing = os.path.join(base, 'job'), os.path.join(base, 'nope')
    recipe = ("fiddle_configs.pretrain.pretrain(size='smoke',"
              f"data='image_folder',data_dir='{missing}',num_classes=3)")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop('XLA_FLAGS', None)
    proc = subprocess.run(
        [sys.executable, '-m', 'paxml.main', f'--job_log_dir={job}',
         f'--fdl=config:{recipe}'], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=600, check=False)
    self.assertEqual(proc.returncode, 1, proc.stderr[-2000:])
    self.assertNotIn('Traceback', proc.stderr)
    self.assertEqual(proc.stderr.splitlines()[-1],
                     f"Error: data_dir '{missing}' of input 'train' does not "
                     'exist.')
    self.assertFalse(os.path.exists(job))


if __name__ == '__main__':
  absltest.main()
