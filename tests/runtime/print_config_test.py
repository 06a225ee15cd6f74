# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""--print_config: the resolved, flattened config, and nothing written."""

import contextlib
import functools
import io
import os
import tempfile

from absl.testing import absltest
import fiddle as fdl
import numpy as np

from vit22b_pax import main
from vit22b_pax.runtime import experiment
from vit22b_pax.runtime import print_config

_RECIPE = "fiddle_configs.pretrain.pretrain(size='smoke')"
_EXP = 'vit22b_pax.experiments.pretrain.ProceduralTiny'


def _inner(a, b=2):
  return a + b


def _outer(inner, items, table, fn, tags):
  return inner, items, table, fn, tags


def _main(*args):
  """(exit code, stdout, stderr) of `vit22b_pax.main` in this process."""
  out, err = io.StringIO(), io.StringIO()
  with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    with absltest.TestCase().assertRaises(SystemExit) as cm:
      main.run(['vit22b_pax.main', *args])
  return cm.exception.code, out.getvalue(), err.getvalue()


class FlattenTest(absltest.TestCase):

  def test_paths_and_values(self):
    cfg = fdl.Config(
        _outer, inner=fdl.Config(_inner, a=1), items=[3, fdl.Config(_inner)],
        table={'y': 1.5, 'x': 'text'}, fn=np.mean, tags={'b', 'a'})
    self.assertEqual(print_config.flatten(cfg), {
        'fn': 'numpy.mean',
        'inner': f'Config[{__name__}._inner]',
        'inner.a': '1',
        'items': 'list[2]',
        'items[0]': '3',
        'items[1]': f'Config[{__name__}._inner]',
        'table': 'dict[2]',
        "table['x']": "'text'",
        "table['y']": '1.5',
        'tags': "{'a', 'b'}",
    })
    text = print_config.format_config(cfg, 'title')
    self.assertTrue(text.startswith('# title\nfn = numpy.mean\n'))

  def test_no_memory_addresses_and_partial_arguments_kept(self):
    cfg = fdl.Config(_inner, a=object(), b=functools.partial(_inner, b=7))
    self.assertEqual(print_config.flatten(cfg), {
        'a': '<object object>',
        'b': 'functools.partial(<function _inner>, b=7)'})


class ParseTest(absltest.TestCase):

  def test_forms(self):
    parse = print_config.parse
    self.assertEqual(parse(['m', f'--exp={_EXP}', '--job_log_dir=x']),
                     (_EXP, []))
    self.assertEqual(parse(['m', '--fdl', f'config:{_RECIPE}', '--fdl=set:a=1',
                            '--fdl_set', 'b.c=2']),
                     (_RECIPE, ['a=1', 'b.c=2']))
    self.assertEqual(parse(['m', f'--fdl_config={_RECIPE}']), (_RECIPE, []))

  def test_errors(self):
    with self.assertRaisesRegex(ValueError, 'exactly one of .*none'):
      print_config.parse(['m', '--job_log_dir=x'])
    with self.assertRaisesRegex(ValueError, 'exactly one'):
      print_config.parse(['m', f'--exp={_EXP}', f'--fdl=config:{_RECIPE}'])
    with self.assertRaisesRegex(ValueError, 'ignores --fdl=set:'):
      print_config.parse(['m', f'--exp={_EXP}', '--fdl=set:a=1'])
    with self.assertRaisesRegex(ValueError, "--fdl='fiddler:x'"):
      print_config.parse(['m', '--fdl=fiddler:x'])


class MainTest(absltest.TestCase):

  def test_recipe_with_override_prints_and_writes_nothing(self):
    job = os.path.join(tempfile.mkdtemp(), 'job')
    code, out, _ = _main('--print_config', f'--job_log_dir={job}',
                         f'--fdl=config:{_RECIPE}',
                         '--fdl=set:task.train.num_train_steps=11')
    self.assertEqual(code, 0)
    self.assertFalse(os.path.exists(job))
    lines = out.splitlines()
    self.assertEqual(lines[0], f'# {_RECIPE} --fdl=set:task.train.'
                     'num_train_steps=11')
    self.assertIn('task.train.num_train_steps = 11', lines)
    cfg = experiment.recipe_config(_RECIPE, ['task.train.num_train_steps=11'])
    self.assertEqual(lines[1:], [f'{k} = {v}' for k, v in
                                 print_config.flatten(cfg).items()])
    self.assertNotIn('task.train.num_train_steps = 6', lines)

  def test_registered_experiment(self):
    code, out, _ = _main('--print_config', f'--exp={_EXP}')
    self.assertEqual(code, 0)
    want = print_config.format_config(
        experiment.recipe_config(_EXP), _EXP)
    self.assertEqual(out, want)
    self.assertIn("task.model.name = 'classifier'", out.splitlines())

  def test_bad_override_names_it(self):
    code, out, err = _main('--print_config', f'--fdl=config:{_RECIPE}',
                           '--fdl=set:task.no_such_field=1')
    self.assertEqual((code, out), (2, ''))
    self.assertIn('no_such_field', err)


if __name__ == '__main__':
  absltest.main()
