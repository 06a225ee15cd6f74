# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Imports respect the layer order: no package imports one above it.

Every package has a rank; a module may import modules of its own package or
of a package of lower rank, never of a higher one. Imports are read with
`ast` (never executed), at any depth: an import inside a function is an
import too. The order is core -> layers -> models -> runtime -> recipes
(fiddle_configs) -> experiments -> tools, with data, eval, optim, perf and
weights placed where their imports put them:

  * data, optim: import nothing of ours beside core;
  * perf (FLOPs, chip peaks): core and layers; models count their FLOPs with
    it;
  * eval (metrics, few-shot solver and data): data; models report
    `eval.dense_metrics`;
  * weights (public checkpoints in and out, the classifier function): the
    runtime's checkpoint reader and loader.
"""

import ast
import pathlib
import tempfile

from absl.testing import absltest

ROOT = pathlib.Path(__file__).resolve().parents[1]

# Package -> rank. Equal ranks may not import each other (only their own
# package), so peers stay independent.
RANKS = {
    'vit22b_pax.core': 0,
    'vit22b_pax.data': 1,
    'vit22b_pax.optim': 1,
    'vit22b_pax.layers': 1,
    'vit22b_pax.perf': 2,
    'vit22b_pax.eval': 2,
    'vit22b_pax.models': 3,
    'vit22b_pax.runtime': 4,
    'vit22b_pax.weights': 5,
    'fiddle_configs': 6,
    'vit22b_pax.experiments': 7,
    'vit22b_pax.tools': 8,
    'vit22b_pax.main': 8,
    'vit22b_pax': 8,  # The package's own __init__.
}
# Modules whose imports are not checked: none. (A violation is fixed by
# moving code down a layer, not by listing it here.)


def package_of(module: str) -> str | None:
  """The RANKS key a dotted module belongs to, None if not ours."""
  parts = module.split('.')
  for n in (2, 1):
    key = '.'.join(parts[:n])
    if key in RANKS:
      return key
  return None


def modules() -> dict[str, pathlib.Path]:
  """{dotted module: path} of every module of vit22b_pax and fiddle_configs."""
  out = {}
  for pkg in ('vit22b_pax', 'fiddle_configs'):
    for path in sorted((ROOT / pkg).rglob('*.py')):
      dotted = path.relative_to(ROOT).with_suffix('').as_posix().replace(
          '/', '.')
      out[dotted.removesuffix('.__init__')] = path
  return out


def imports(path: pathlib.Path) -> list[tuple[str, int]]:
  """(imported dotted name, line) of every absolute import in a file."""
  found = []
  for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
    if isinstance(node, ast.Import):
      found += [(a.name, node.lineno) for a in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
      found += [(f'{node.module}.{a.name}', node.lineno) for a in node.names]
  return found


def violations(mods: dict[str, pathlib.Path] | None = None) -> list[str]:
  """One line per import of a higher-ranked (or peer) package."""
  out = []
  for module, path in (modules() if mods is None else mods).items():
    own = package_of(module)
    if own is None:
      raise AssertionError(f'{module} is in no package of RANKS: give its '
                           'package a rank.')
    for name, line in imports(path):
      other = package_of(name)
      if other is None or other == own:
        continue
      if RANKS[other] >= RANKS[own]:
        out.append(f'{module}:{line} imports {name} ({other}, rank '
                   f'{RANKS[other]}) from {own} (rank {RANKS[own]})')
  return out


class LayeringTest(absltest.TestCase):

  def test_no_upward_imports(self):
    found = violations()
    self.assertEqual(found, [], 'imports against the layer order:\n'
                     + '\n'.join(found))

  def test_every_package_has_a_rank(self):
    packages = {p.parent.relative_to(ROOT).as_posix().replace('/', '.')
                for p in (ROOT / 'vit22b_pax').rglob('__init__.py')}
    for pkg in packages:
      self.assertIsNotNone(package_of(pkg + '.x'), pkg)

  def test_an_upward_import_is_reported(self):
    # The checker itself: a core module importing layers (inside a
    # function) and a models module importing runtime are caught.
    folder = pathlib.Path(tempfile.mkdtemp(prefix='layering_'))
    core, models = folder / 'core.py', folder / 'models.py'
    core.write_text('def f():\n  from vit22b_pax.layers import encoder\n')
    models.write_text('import vit22b_pax.runtime.restore\n'
                      'from vit22b_pax.perf import flops\n')
    self.assertEqual(violations({'vit22b_pax.core.probe': core,
                                 'vit22b_pax.models.probe': models}), [
        'vit22b_pax.core.probe:2 imports vit22b_pax.layers.encoder '
        '(vit22b_pax.layers, rank 1) from vit22b_pax.core (rank 0)',
        'vit22b_pax.models.probe:1 imports vit22b_pax.runtime.restore '
        '(vit22b_pax.runtime, rank 4) from vit22b_pax.models (rank 3)'])

if __name__ == '__main__':
  absltest.main()
