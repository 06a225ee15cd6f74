# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""A new user's first hour, scripted: the README's commands in order.

  .venv/bin/python -m tests.tools.new_user_journey [OUT_DIR]

From the repository root, at smoke size: setup (`make venv`), train, the
same train again (finished), train further (resume), a registered
experiment through paxml.main, import a (random) ViT-Ti/16 checkpoint in
big_vision's format, predict, the linear probe `import_weights` prints (on a
3-class folder of small images), export, and the bad data sources (a
missing `data_dir`, a split without images, a class folder outside the
class list). Every command is run as a shell command exactly as written,
with the placeholders of the printed commands filled in. Prints each
command, its console output and its line count; writes `journey.json`
(command, exit status, console lines) and `journey.txt` (the transcript) to
OUT_DIR.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shlex
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[2]
PY = '.venv/bin/python'
TRAIN = "fiddle_configs.pretrain.pretrain(size='smoke',steps={steps})"
# Ti/16 as big_vision stores it (random values: the journey checks the
# plumbing, not the accuracy).
TI16 = dict(width=192, depth=12, mlp=768, heads=3, patch=16, grid=14)


def run(step: str, cmd: str, log: list) -> tuple[int, list[str]]:
  """Runs `cmd` in bash from the repository root; prints and records it."""
  env = dict(os.environ, PYTHONPATH=str(ROOT))
  env.pop('XLA_FLAGS', None)  # A new user's shell: one CPU device.
  proc = subprocess.run(['bash', '-c', cmd], cwd=ROOT, env=env,
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                        text=True, check=False)
  lines = proc.stdout.splitlines()  # The console: stdout and stderr, in order.
  text = '\n'.join([f'\n$ {cmd}'] + [f'  {line}' for line in lines] + [
      f'  -> {step}: exit {proc.returncode}, {len(lines)} console lines'])
  print(text, flush=True)
  log.append({'step': step, 'command': cmd, 'rc': proc.returncode,
              'lines': lines})
  return proc.returncode, lines


def image_folder(root: pathlib.Path, layout: dict[str, dict[str, int]],
                 size: int = 32) -> str:
  """root/<split>/<class>/<i>.png, each class its own colour."""
  rng = np.random.default_rng(0)
  colours = {'red': (200, 30, 30), 'green': (30, 200, 30),
             'blue': (30, 30, 200)}
  for split, classes in layout.items():
    for name, count in classes.items():
      folder = root / split / name
      folder.mkdir(parents=True, exist_ok=True)
      for i in range(count):
        pixels = np.clip(np.array(colours.get(name, (128, 128, 128))) +
                         rng.normal(0, 40, (size, size, 3)), 0, 255)
        Image.fromarray(pixels.astype(np.uint8)).save(folder / f'{i}.png')
  return str(root)


def big_vision_npz(path: pathlib.Path, classes: int) -> str:
  sys.path.insert(0, str(ROOT))
  from tests.weights import reference  # pylint: disable=g-import-not-at-top
  params = reference.big_vision_params(
      np.random.default_rng(0), classes=classes, pooling='gap', **TI16)
  np.savez(path, **params)
  return str(path)


def printed(lines: list[str], key: str) -> str:
  """The command import_weights printed under `key:`."""
  for i, line in enumerate(lines):
    if line.strip() == f'{key}:':
      return lines[i + 1].strip()
  raise ValueError(f'import_weights printed no {key!r} command')


def journey(out: pathlib.Path) -> list[dict]:
  log: list[dict] = []
  jobs = out / 'runs'
  q = shlex.quote
  # Setup: the README's first command creates .venv. A .venv that links to
  # another checkout's environment is shared: only show what make would do
  # (it would reinstall this checkout into the shared environment).
  shared = (ROOT / '.venv').is_symlink()
  run('setup', 'make -n venv' if shared else 'make venv', log)
  # Train, the same again (finished), then further (resumes).
  pretrain = jobs / 'pretrain'
  for step, steps in (('train', 20), ('train again', 20),
                      ('train further', 24)):
    run(step, f'{PY} -m paxml.main --job_log_dir={pretrain} '
        f'"--fdl=config:{TRAIN.format(steps=steps)}"', log)
  # A registered experiment through paxml's own entry point.
  run('registered experiment', f'{PY} -m paxml.main --job_log_dir='
      f'{jobs / "seg"} --exp=vit22b_pax.experiments.dense.ProceduralSegSmoke',
      log)
  # Import public weights; predict, probe and export as printed.
  data = image_folder(out / 'pets', {'train': {'red': 8, 'green': 8,
                                               'blue': 8},
                                     'test': {'red': 2, 'green': 2,
                                              'blue': 2}})
  npz = big_vision_npz(out / 'Ti_16.npz', classes=3)
  vit = jobs / 'vit_ti16'
  rc, lines = run('import', f'{PY} -m vit22b_pax.tools.import_weights '
                  f'--format big_vision --src {npz} --variant Ti/16 '
                  f'--job_log_dir {vit}', log)
  if rc:
    return log
  labels = out / 'labels.txt'
  labels.write_text('red\ngreen\nblue\n')
  image = os.path.join(data, 'test', 'red', '0.png')
  run('predict', printed(lines, 'predict').replace(
      '[--labels labels.txt] IMAGE...', f'--labels {labels} --top_k 3 '
      f'{image}'), log)
  probe = printed(lines, 'linear_probe').replace(
      'num_classes=10', 'num_classes=3')
  run('probe', probe.replace('/data/my_images', data).replace(
      'runs/probe', str(jobs / 'probe')), log)
  run('export', printed(lines, 'export'), log)
  # Bad data sources: one line each, nothing written.
  empty = image_folder(out / 'empty_test', {'train': {'red': 2}})
  (out / 'empty_test' / 'test' / 'red').mkdir(parents=True)
  extra = image_folder(out / 'extra_class', {'train': {'red': 2},
                                             'test': {'red': 1,
                                                      'zebra': 1}})
  for step, folder in (('missing data_dir', str(out / 'no_such_folder')),
                       ('split without images', empty),
                       ('class outside the class list', extra)):
    job = jobs / step.replace(' ', '_')
    run(step, probe.replace('/data/my_images', folder).replace(
        'runs/probe', str(job)) + f'; rc=$?; test ! -e {q(str(job))} && '
        'echo "(no job directory written)"; exit $rc', log)
  return log


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  p.add_argument('out_dir', nargs='?', default=None,
                 help='where the jobs, journey.json and journey.txt go '
                 '(default: a new temporary folder)')
  args = p.parse_args(argv)
  out = pathlib.Path(args.out_dir or tempfile.mkdtemp(
      prefix='vit22b_journey_')).resolve()
  out.mkdir(parents=True, exist_ok=True)
  log = journey(out)
  (out / 'journey.json').write_text(json.dumps(log, indent=1))
  (out / 'journey.txt').write_text('\n'.join(
      '\n'.join([f'\n$ {s["command"]}'] + [f'  {l}' for l in s['lines']] +
                [f'  -> {s["step"]}: exit {s["rc"]}, {len(s["lines"])} '
                 'console lines']) for s in log) + '\n')
  print(f'\n{len(log)} commands; record: {out / "journey.json"}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
