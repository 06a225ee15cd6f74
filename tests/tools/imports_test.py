# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Every tool module imports beside paxml.main in one process.

A tool that defines absl flags at import time (e.g. `--exp`) collides with
paxml's own flags as soon as both are imported, which breaks any test or
program that loads the two; tools parse their arguments with argparse
inside `main()` instead.
"""

import pkgutil
import subprocess
import sys

from absl.testing import absltest

from vit22b_pax import tools

_SCRIPT = '''
import importlib, sys
for name in sys.argv[1:]:
  importlib.import_module(name)
import paxml.main
print('ok')
'''


class ToolImportsTest(absltest.TestCase):

  def test_all_tools_import_with_paxml_main(self):
    names = [f'vit22b_pax.tools.{m.name}'
             for m in pkgutil.iter_modules(tools.__path__)]
    self.assertGreater(len(names), 10)
    proc = subprocess.run([sys.executable, '-c', _SCRIPT, *names],
                          capture_output=True, text=True, check=False)
    self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
    self.assertIn('ok', proc.stdout)


if __name__ == '__main__':
  absltest.main()
