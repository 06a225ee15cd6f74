# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""BUILD mirrors the package: a py_library per module, a py_test per test."""

import pathlib
import re

from absl.testing import absltest

ROOT = pathlib.Path(__file__).resolve().parents[1]


class BuildFileTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.build = (ROOT / 'BUILD').read_text()
    self.srcs = set(re.findall(r'srcs = \["([^"]+)"\]', self.build))

  def test_every_module_has_a_library(self):
    for pkg in ('vit22b_pax', 'fiddle_configs'):
      for path in sorted((ROOT / pkg).rglob('*.py')):
        rel = path.relative_to(ROOT).as_posix()
        with self.subTest(rel):
          self.assertIn(rel, self.srcs, f'{rel} has no BUILD target')

  def test_every_test_file_has_a_test(self):
    for path in sorted((ROOT / 'tests').rglob('*_test.py')):
      rel = path.relative_to(ROOT).as_posix()
      with self.subTest(rel):
        self.assertIn(rel, self.srcs, f'{rel} has no py_test')

  def test_every_target_points_at_a_file(self):
    for src in self.srcs:
      with self.subTest(src):
        self.assertTrue((ROOT / src).exists(), f'BUILD names missing {src}')

  def test_requirements_come_from_the_lock_file(self):
    module = (ROOT / 'MODULE.bazel').read_text()
    self.assertIn('requirements_lock = "//:requirements-lock.txt"', module)
    locked = {
        line.split('==')[0].lower().replace('_', '-')
        for line in (ROOT / 'requirements-lock.txt').read_text().splitlines()
        if '==' in line and not line.startswith('#')
    }
    for req in set(re.findall(r'requirement\("([^"]+)"\)', self.build)):
      with self.subTest(req):
        self.assertIn(req.lower().replace('_', '-'), locked)


if __name__ == '__main__':
  absltest.main()
