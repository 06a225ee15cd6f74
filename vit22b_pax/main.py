# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""`python -m paxml.main` with the full log in a file.

Takes exactly paxml.main's flags, e.g.

  python -m vit22b_pax.main --job_log_dir=runs/pretrain \
      --fdl=config:fiddle_configs.pretrain.pretrain(size='tiny')

The programs print their progress lines either way; this entry point also
sends paxml's log to `<job_log_dir>/logs/pax.log` and keeps only WARNING,
ERROR and CRITICAL records (of every library) on the console (process N > 0
of a multi-process run: `pax.host<N>.log`). `--verbose_console` keeps the
whole log on the console. `--print_config` prints the resolved, flattened
configuration (`runtime/print_config.py`) and exits without writing anything.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')


def run(argv=None) -> None:
  argv = list(sys.argv if argv is None else argv)
  from vit22b_pax.runtime import print_config  # pylint: disable=g-import-not-at-top
  if print_config.requested(argv):  # Prints the config; runs nothing.
    sys.exit(print_config.print_config(argv))
  verbose = '--verbose_console' in argv
  argv = [a for a in argv if a != '--verbose_console']
  import jax  # pylint: disable=g-import-not-at-top
  from absl import app  # pylint: disable=g-import-not-at-top
  from absl import flags  # pylint: disable=g-import-not-at-top
  from fiddle import absl_flags  # pylint: disable=g-import-not-at-top
  from paxml import main as pax_main  # pylint: disable=g-import-not-at-top

  from vit22b_pax.runtime import console  # pylint: disable=g-import-not-at-top
  # As paxml.main's __main__ block: --jax_backend_target etc., --job_log_dir.
  jax.config.config_with_absl()
  flags.mark_flag_as_required('job_log_dir')

  def _main(args):
    fv = pax_main.FLAGS
    # Prints `Log: <path>` once the file exists (a run rejected before
    # anything is written names no log).
    console.route_logs(fv.job_log_dir, verbose=verbose,
                       host=fv.host_idx if fv.multiprocess_gpu else None,
                       announce=True)
    pax_main.main(args)

  app.run(_main, argv=argv, flags_parser=absl_flags.flags_parser)


if __name__ == '__main__':
  run()
