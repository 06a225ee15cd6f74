# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Builds an experiment from command-line flags exactly as paxml.main does.

paxml.main's `_main` picks one of three paths: `--exp` (the registered class,
called), the legacy fiddle flags (`--fdl_config=` + `--fdl.X=`/`--fdl_set=`,
`create_buildable_from_flags`) or the new `--fdl=config:`/`--fdl=set:` flag
(`DEFINE_fiddle_config`), then `pax_fiddle.build`s the config. This helper
runs the same library calls in-process; the new-style flag gets a fresh
FlagValues per call (fiddle's flag accumulates across parses).
"""

from __future__ import annotations

import contextlib
from typing import Iterator, Sequence

from absl import flags
from fiddle import absl_flags
from paxml import main as pax_main
from praxis import pax_fiddle


@contextlib.contextmanager
def parsed_global_flags(argv: Sequence[str]) -> Iterator[flags.FlagValues]:
  """The global FLAGS parsed from argv (as absl_flags.flags_parser would
  rewrite them); the previous parse is restored afterwards."""
  fv = flags.FLAGS
  previous = fv.is_parsed()
  fv.unparse_flags()
  args = absl_flags.flags_parser(['prog', *argv])
  try:
    fv(args)
    yield fv
  finally:
    fv.unparse_flags()
    if previous:
      fv(['prog'])


def experiment_from_flags(argv: Sequence[str]):
  """paxml.main's experiment for these flags (no --job_log_dir needed)."""
  fdl_new = [a for a in argv if a.startswith('--fdl=')]
  if fdl_new:
    fv = flags.FlagValues()
    holder = absl_flags.DEFINE_fiddle_config(
        'fdl', help_string='', default_module=pax_main, flag_values=fv)
    fv(['prog', *fdl_new])
    return pax_fiddle.build(holder.value)
  with parsed_global_flags(argv) as fv:
    if fv.exp is not None:
      return pax_main.get_experiment(fv.exp)()
    return pax_fiddle.build(absl_flags.create_buildable_from_flags(
        module=None, allow_imports=True))
