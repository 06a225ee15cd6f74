# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""`python -m paxml.main` with a readable console and a closing summary.

Takes exactly paxml.main's flags, e.g.

  python -m vit22b_pax.main \
      --exp=vit22b_pax.experiments.pretrain.ProceduralViT22BTiny \
      --job_log_dir=runs/pretrain

and prints progress lines instead of paxml's compile log; at the end it prints
the last evaluation metrics and where the checkpoints and TensorBoard
summaries are. `--verbose_console` shows paxml's full log.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys

from vit22b_pax import console

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')


def _wrap_setup_jax():
  """paxml's setup_jax turns on jax_log_compiles; turn it back off."""
  import jax  # pylint: disable=g-import-not-at-top
  from paxml import setup_jax  # pylint: disable=g-import-not-at-top
  original = setup_jax.setup_jax

  def setup_jax_quiet(*args, **kwargs):
    out = original(*args, **kwargs)
    jax.config.update('jax_log_compiles', False)
    return out

  setup_jax.setup_jax = setup_jax_quiet


def _summary(progress: console.ProgressFilter, job_log_dir: str) -> None:
  progress.flush()
  lines = ['', '=' * 72]
  if progress.last_eval:
    lines.append(f'Evaluation at step {progress.last_eval_step}:')
    for split, values in progress.last_eval.items():
      shown = ', '.join(f'{k} {v:.4f}' for k, v in values.items()
                        if k in ('accuracy', 'acc5', 'shape_bias',
                                 'zeroshot_accuracy', 'total_loss'))
      lines.append(f'  {split:<12} {shown}')
  else:
    lines.append('No evaluation ran (EVAL_INTERVAL_STEPS or no eval data).')
  job = os.path.abspath(job_log_dir)
  lines += [f'Checkpoints: {os.path.join(job, "checkpoints")}',
            f'TensorBoard: tensorboard --logdir {os.path.join(job, "summaries")}',
            '=' * 72]
  print('\n'.join(lines), file=sys.stderr, flush=True)


def _import_quietly(argv) -> None:
  """Imports the experiment module first, without paxml's per-class
  'Registered experiment ...' lines."""
  for arg in argv:
    for flag in ('--exp=', '--fdl_config='):
      if arg.startswith(flag):
        module = arg[len(flag):].split('(')[0].rsplit('.', 1)[0]
        with open(os.devnull, 'w') as devnull, \
            contextlib.redirect_stderr(devnull):
          try:
            importlib.import_module(module)
          except ImportError:
            pass  # paxml reports it properly later.


def run(argv=None) -> None:
  argv = list(sys.argv if argv is None else argv)
  verbose = '--verbose_console' in argv
  argv = [a for a in argv if a != '--verbose_console']
  progress = None if verbose else console.quiet_console()
  if not verbose:
    _import_quietly(argv[1:])
  import jax  # pylint: disable=g-import-not-at-top
  from absl import app  # pylint: disable=g-import-not-at-top
  from absl import flags  # pylint: disable=g-import-not-at-top
  from fiddle import absl_flags  # pylint: disable=g-import-not-at-top
  from paxml import main as pax_main  # pylint: disable=g-import-not-at-top
  if not verbose:
    _wrap_setup_jax()
  # As paxml.main's __main__ block: --jax_backend_target etc., --job_log_dir.
  jax.config.config_with_absl()
  flags.mark_flag_as_required('job_log_dir')

  def _main(args):
    pax_main.main(args)
    if progress is not None:
      _summary(progress, pax_main.FLAGS.job_log_dir)

  app.run(_main, argv=argv, flags_parser=absl_flags.flags_parser)


if __name__ == '__main__':
  run()
