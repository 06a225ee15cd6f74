# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Commands run as printed: the README's and those our tools print.

One convention everywhere (README "Two commands"): `.venv/bin/python -m ...`
and `.venv/bin/tensorboard ...`, from the repository root. Every module a
command names imports and answers `--help` (one subprocess for the argparse
tools, one per absl program: their flags cannot share a process).
"""

import os
import pathlib
import re
import subprocess
import sys
import tempfile

from absl.testing import absltest
from etils import epath
import numpy as np

from tests.weights import import_util as iu
from tests.weights import reference as ref
from vit22b_pax.runtime import executor
from vit22b_pax.runtime import jobdir

ROOT = pathlib.Path(__file__).resolve().parents[2]
PYTHON = '.venv/bin/python'
# Programs that parse absl flags (paxml's): one process each.
ABSL_PROGRAMS = ('paxml.main', 'vit22b_pax.main')
_MODULE = re.compile(r'([\w./-]*python3?) -m ([A-Za-z_][\w.]*\w)')
_HELP = '''
import contextlib, io, runpy, sys
bad = []
for name in sys.argv[1:]:
  out = io.StringIO()
  sys.argv = [name, '--help']
  try:
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
      runpy.run_module(name, run_name='__main__', alter_sys=True)
    code = 0
  except SystemExit as e:
    code = e.code
  except BaseException as e:  # pylint: disable=broad-except
    code = f'{type(e).__name__}: {e}'
  if code not in (0, None) or 'usage' not in out.getvalue().lower():
    bad.append(f'{name}: exit {code!r}: {out.getvalue()[-300:]!r}')
print('BAD ' + ' | '.join(bad) if bad else 'ok')
'''


def readme() -> str:
  return (ROOT / 'README.md').read_text()


def shell_blocks(text: str) -> list[str]:
  """The README's ```sh blocks, continuation lines joined."""
  blocks = re.findall(r'^\s*```sh\n(.*?)^\s*```', text, re.M | re.S)
  return [re.sub(r'\\\n\s*', ' ', b) for b in blocks]


def printed_commands() -> list[str]:
  """Commands our tools print: import_weights' next steps, the closing
  summary of every run, the finished-job hint."""
  rng = np.random.default_rng(0)
  params = ref.big_vision_params(
      rng, width=iu.WIDTH, depth=iu.DEPTH, mlp=iu.MLP, heads=iu.HEADS,
      patch=iu.PATCH, grid=2, classes=3, pooling='gap')
  path = os.path.join(tempfile.mkdtemp(), 'vit.npz')
  np.savez(path, **params)
  rc, out, err, _ = iu.run_import('--format', 'big_vision', '--src', path)
  if rc:
    raise AssertionError(err)
  stub = type('Stub', (), {'_eval_programs': [],
                           '_job_log_dir': epath.Path('/tmp/job')})()
  summary = executor.TrainAndEvalExecutor.summary(stub)
  return [line.strip() for line in (out + summary).splitlines()
          if ' -m ' in line or 'tensorboard' in line]


class ConventionTest(absltest.TestCase):

  def test_readme_uses_the_venv_everywhere(self):
    text = readme()
    interpreters = {m.group(1) for m in _MODULE.finditer(text)}
    self.assertEqual(interpreters, {PYTHON})
    self.assertGreater(len(_MODULE.findall(text)), 20)
    for match in re.finditer(r'\S*tensorboard --logdir', text):
      self.assertEqual(match.group(0), '.venv/bin/tensorboard --logdir')
    for block in shell_blocks(text):
      for line in block.splitlines():
        word = line.strip().split(' ')[0]
        self.assertNotIn(word, ('python', 'python3', 'tensorboard', 'pip'),
                         f'bare {word!r} in README: {line.strip()}')

  def test_printed_commands_use_the_venv(self):
    lines = printed_commands()
    self.assertGreaterEqual(len(lines), 5, lines)
    for line in lines:
      for match in _MODULE.finditer(line):
        self.assertEqual(match.group(1), PYTHON, line)
      if 'tensorboard' in line:
        self.assertIn('.venv/bin/tensorboard --logdir', line)

  def test_finished_job_hint_names_the_recipe_argument(self):
    job = tempfile.mkdtemp()
    os.makedirs(os.path.join(job, 'checkpoints', 'checkpoint_00000004'))
    with self.assertRaises(jobdir.NothingToTrain) as ctx:
      jobdir._done(epath.Path(job), 4)  # pylint: disable=protected-access
    self.assertIn("steps= argument", ctx.exception.message)
    self.assertNotIn('num_train_steps', ctx.exception.message)


class ModulesAnswerHelpTest(absltest.TestCase):

  def test_every_named_module_answers_help(self):
    modules = {m.group(2) for m in _MODULE.finditer(readme())}
    modules |= {m.group(2) for line in printed_commands()
                for m in _MODULE.finditer(line)}
    self.assertContainsSubset(
        {'paxml.main', 'vit22b_pax.main', 'vit22b_pax.tools.import_weights',
         'vit22b_pax.tools.predict', 'vit22b_pax.tools.export'}, modules)
    env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS='cpu')
    argparse_tools = sorted(modules - set(ABSL_PROGRAMS))
    runs = [[sys.executable, '-c', _HELP, *argparse_tools]]
    runs += [[sys.executable, '-m', m, '--help'] for m in ABSL_PROGRAMS
             if m in modules]
    for cmd in runs:
      proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                            env=env, timeout=600, check=False)
      what = ' '.join(cmd[3:] if cmd[1] == '-c' else cmd[1:])
      # absl's --help exits 1 after printing the flags.
      ok = (0,) if cmd[1] == '-c' else (0, 1)
      self.assertIn(proc.returncode, ok, f'{what}: {proc.stderr[-2000:]}')
      self.assertNotIn('Traceback', proc.stderr, what)
      if cmd[1] == '-c':
        self.assertEqual(proc.stdout.strip().splitlines()[-1], 'ok',
                         proc.stdout[-3000:])
      else:
        self.assertIn('--job_log_dir', proc.stdout + proc.stderr, what)

  def test_tensorboard_is_in_the_venv(self):
    tensorboard = pathlib.Path(sys.executable).parent / 'tensorboard'
    self.assertTrue(os.access(tensorboard, os.X_OK), tensorboard)


if __name__ == '__main__':
  absltest.main()
