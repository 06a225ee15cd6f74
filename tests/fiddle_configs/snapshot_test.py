# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The flattened config of every registered experiment is what it was.

A refactoring of the recipes (`fiddle_configs/`) must not change any
experiment: each registered experiment's flattened config
(`runtime.print_config.flatten`, every value the recipe sets) is hashed and
compared with `testdata/registered_configs.json`. A change that is meant
rewrites the file:

  VIT22B_UPDATE_SNAPSHOT=1 python -m pytest tests/fiddle_configs/snapshot_test.py

and `python -m vit22b_pax.main --print_config --exp=<name>` before and after
shows what changed.
"""

import contextlib
import hashlib
import importlib
import io
import json
import os
import pathlib
import pkgutil

from absl.testing import absltest
from paxml import experiment_registry

from vit22b_pax import experiments
from vit22b_pax.runtime import print_config

SNAPSHOT = pathlib.Path(__file__).parent / 'testdata' / (
    'registered_configs.json')


def registered() -> dict[str, type]:
  with contextlib.redirect_stdout(io.StringIO()):  # The registry's prints.
    for module in pkgutil.iter_modules(experiments.__path__):
      importlib.import_module(f'{experiments.__name__}.{module.name}')
  return {name: cls for name, cls in sorted(
      experiment_registry.get_all().items())
          if name.startswith('vit22b_pax.experiments.')}


def digest(cfg) -> str:
  """sha256 of the flattened config's 'path = value' lines."""
  return hashlib.sha256(
      print_config.format_config(cfg).encode()).hexdigest()


class SnapshotTest(absltest.TestCase):

  def test_every_registered_config_is_unchanged(self):
    got = {name: {'digest': digest(cls.config()),
                  'values': len(print_config.flatten(cls.config()))}
           for name, cls in registered().items()}
    if os.environ.get('VIT22B_UPDATE_SNAPSHOT'):
      SNAPSHOT.write_text(json.dumps(got, indent=1, sort_keys=True) + '\n')
    want = json.loads(SNAPSHOT.read_text())
    self.assertGreaterEqual(len(want), 30)
    self.assertEqual(sorted(got), sorted(want),
                     'registered experiments added or removed')
    changed = [f'{name}: {want[name]["values"]} -> {got[name]["values"]} '
               'values' for name in want if got[name] != want[name]]
    self.assertEqual(changed, [], 'configs changed (see the module '
                     'docstring to inspect or accept the change)')

  def test_digest_sees_one_changed_value(self):
    cls = registered()['vit22b_pax.experiments.pretrain.ProceduralTiny']
    cfg = cls.config()
    before = digest(cfg)
    cfg.task.train.num_train_steps += 1
    self.assertNotEqual(digest(cfg), before)
    self.assertEqual(digest(cls.config()), before)


if __name__ == '__main__':
  absltest.main()
