# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""BUILD is generated from the tree and must not be stale."""

import pathlib
import re
import tempfile

from absl.testing import absltest

from vit22b_pax.tools import gen_build

ROOT = pathlib.Path(__file__).resolve().parents[1]


class BuildFileTest(absltest.TestCase):

  def test_build_is_up_to_date(self):
    self.assertEqual(
        (ROOT / 'BUILD').read_text(), gen_build.generate(),
        'BUILD is stale: run .venv/bin/python -m vit22b_pax.tools.gen_build')

  def test_every_module_and_test_has_a_target(self):
    srcs = set(re.findall(r'srcs = \["([^"]+)"\]', gen_build.generate()))
    for pkg in ('vit22b_pax', 'fiddle_configs', 'tests'):
      for path in sorted((ROOT / pkg).rglob('*.py')):
        rel = path.relative_to(ROOT).as_posix()
        self.assertIn(rel, srcs)
    tests = re.findall(r'py_test\(\n    name = "[^"]+",\n    srcs = \["([^"]+)"',
                       gen_build.generate())
    self.assertEqual(sorted(tests), sorted(
        p.relative_to(ROOT).as_posix() for p in (ROOT / 'tests').rglob(
            '*_test.py')))

  def test_dependencies_come_from_imports(self):
    modules = gen_build._module_files()  # pylint: disable=protected-access
    internal, pip = gen_build.dependencies(
        'vit22b_pax/runtime/train_program.py', modules)
    self.assertEqual(internal, {':vit22b_pax_runtime_console',
                                ':vit22b_pax_runtime_guard',
                                ':vit22b_pax_runtime_mfu',
                                ':vit22b_pax_runtime_preemption'})
    self.assertEqual(pip, {'jax', 'numpy'})

  def test_unknown_package_is_an_error(self):
    with tempfile.NamedTemporaryFile('w', suffix='.py', dir=ROOT / 'tests',
                                     delete=True) as f:
      f.write('import somepackage_not_in_the_lock\n')
      f.flush()
      rel = pathlib.Path(f.name).relative_to(ROOT).as_posix()
      with self.assertRaisesRegex(ValueError, 'somepackage_not_in_the_lock'):
        gen_build.dependencies(rel, {})

  def test_requirements_come_from_the_lock_file(self):
    module = (ROOT / 'MODULE.bazel').read_text()
    self.assertIn('requirements_lock = "//:requirements-lock.txt"', module)
    locked = {
        line.split('==')[0].lower().replace('_', '-')
        for line in (ROOT / 'requirements-lock.txt').read_text().splitlines()
        if '==' in line and not line.startswith('#')
    }
    for req in set(gen_build.PIP_NAMES.values()):
      self.assertIn(req.lower().replace('_', '-'), locked)

  def test_check_mode(self):
    self.assertEqual(gen_build.main(['--check']), 0)


if __name__ == '__main__':
  absltest.main()
