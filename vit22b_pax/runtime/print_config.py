# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The resolved configuration of an experiment, flattened, one line a value.

  python -m vit22b_pax.main --print_config --exp=vit22b_pax.experiments.pretrain.ProceduralTiny
  python -m vit22b_pax.main --print_config \
      --fdl=config:"fiddle_configs.pretrain.pretrain(size='tiny')" \
      --fdl=set:task.train.num_train_steps=10

prints every value the recipe (and any `--fdl=set:` override) sets, as
`path = value` lines sorted by path (`task.model.network_tpl.num_layers =
12`), and exits before anything is written: no job directory, no log, no
checkpoint. A config node prints as its class (`task.model =
Config[praxis.layers.models.ClassificationModel]`); fields a recipe leaves
unset take that class's defaults and are not listed.

`flatten(cfg)` is the same mapping as a dict, for tests and diffs.
"""

from __future__ import annotations

import contextlib
import inspect
import re
import sys
from typing import Any, TextIO

import fiddle as fdl

FLAG = '--print_config'


def _name(value: Any) -> str:
  module = getattr(value, '__module__', None)
  qualname = getattr(value, '__qualname__', None) or getattr(
      value, '__name__', None)
  if module and qualname:
    return f'{module}.{qualname}'
  return type(value).__qualname__


def _leaf(value: Any) -> str:
  """A stable text for a value: no memory addresses."""
  if isinstance(value, type) or inspect.isroutine(value):
    return _name(value)
  if isinstance(value, (set, frozenset)):  # repr order varies by process.
    items = '{' + ', '.join(sorted(map(_leaf, value))) + '}'
    return items if isinstance(value, set) else f'frozenset({items})'
  # Default reprs hold memory addresses, which differ between runs.
  return re.sub(r' at 0x[0-9a-fA-F]+', '', repr(value))


def flatten(cfg: Any) -> dict[str, str]:
  """{path: text} of every value set in a fiddle config tree.

  Paths are fiddle's attribute paths ('task.model.name', 'programs[0].x',
  "d['key']"); a Buildable node maps to 'Config[<callable>]', a list or tuple
  to its type and length, so a removed element shows too.
  """
  out: dict[str, str] = {}

  def walk(value: Any, path: str) -> None:
    if isinstance(value, fdl.Buildable):
      out[path] = (f'{type(value).__name__}'
                   f'[{_name(fdl.get_callable(value))}]')
      for key, arg in fdl.ordered_arguments(value).items():
        walk(arg, f'{path}.{key}' if path else str(key))
    elif isinstance(value, (list, tuple)):
      out[path] = f'{type(value).__name__}[{len(value)}]'
      for i, item in enumerate(value):
        walk(item, f'{path}[{i}]')
    elif isinstance(value, dict):
      out[path] = f'dict[{len(value)}]'
      for key in sorted(value, key=repr):
        walk(value[key], f'{path}[{key!r}]')
    else:
      out[path] = _leaf(value)

  walk(cfg, '')
  out.pop('', None)
  return dict(sorted(out.items()))


def format_config(cfg: Any, title: str = '') -> str:
  """The flattened config as 'path = value' lines (a title line first)."""
  lines = [f'# {title}'] if title else []
  lines += [f'{path} = {value}' for path, value in flatten(cfg).items()]
  return '\n'.join(lines) + '\n'


def requested(argv: list[str]) -> bool:
  """Whether the command line (argv[0] = program) asks for --print_config."""
  return FLAG in argv[1:]


def _flag_values(args: list[str], names: tuple[str, ...]) -> list[tuple]:
  """(name, value) of each --name=value or --name value in args."""
  found, i = [], 0
  while i < len(args):
    arg = args[i]
    for name in names:
      if arg.startswith(f'--{name}='):
        found.append((name, arg.split('=', 1)[1]))
      elif arg == f'--{name}' and i + 1 < len(args):
        found.append((name, args[i + 1]))
        i += 1
    i += 1
  return found


def parse(argv: list[str]) -> tuple[str, list[str]]:
  """(experiment name or recipe call, ['path=value' overrides]) of a
  `vit22b_pax.main` command line; every other flag is ignored.

  Raises:
    ValueError: no experiment, two of them, fiddle overrides next to --exp
      (a run refuses those too: paxml would ignore them), or a --fdl=
      command other than config: and set:.
  """
  experiments, overrides, exp_flag = [], [], False
  for name, value in _flag_values(
      argv[1:], ('exp', 'fdl_config', 'fdl', 'fdl_set')):
    if name == 'exp':
      experiments.append(value)
      exp_flag = True
    elif name == 'fdl_config':
      experiments.append(value)
    elif name == 'fdl_set':
      overrides.append(value)
    elif value.startswith('config:'):
      experiments.append(value[len('config:'):])
    elif value.startswith('set:'):
      overrides.append(value[len('set:'):])
    else:
      raise ValueError(f'--fdl={value!r}: {FLAG} takes --fdl=config:<recipe '
                       'call> and --fdl=set:<path>=<value> only.')
  if len(experiments) != 1:
    raise ValueError(f'{FLAG} needs exactly one of --exp, --fdl_config or '
                     f'--fdl=config:, got {experiments or "none"}.')
  if exp_flag and overrides:
    raise ValueError(
        f'--exp={experiments[0]} ignores --fdl=set: overrides (paxml drops '
        'them): use --fdl=config:<the recipe call> followed by '
        '--fdl=set:PATH=VALUE.')
  return experiments[0], overrides


def print_config(argv: list[str], out: TextIO | None = None) -> int:
  """Prints the flattened config a `vit22b_pax.main` command line names,
  without running or writing anything; returns the exit code (2, with a
  message naming the problem on stderr, for a bad command line)."""
  from vit22b_pax.runtime import experiment  # pylint: disable=g-import-not-at-top
  out = sys.stdout if out is None else out
  try:
    name, overrides = parse(argv)
    # paxml's registry prints a line per registered class: keep stdout for
    # the config alone.
    with contextlib.redirect_stdout(sys.stderr):
      cfg = experiment.recipe_config(name, overrides)
  except (ValueError, TypeError, AttributeError, ImportError) as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  title = name + ''.join(f' --fdl=set:{o}' for o in overrides)
  out.write(format_config(cfg, title))
  out.flush()
  return 0
