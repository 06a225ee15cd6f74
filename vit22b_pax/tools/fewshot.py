# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Few-shot linear evaluation of a checkpoint.

  python -m vit22b_pax.tools.fewshot \
      --exp=vit22b_pax.experiments.pretrain.ProceduralTiny \
      --job_log_dir=runs/pretrain --data=procedural,fashion_mnist \
      [--step=N] [--shots=1,5,10,25] [--seeds=3] [--json=out.json]
      [--l2=1024 | --l2_selection=held_out [--l2_grid=...]]

--exp also takes a recipe call, e.g.
"fiddle_configs.pretrain.pretrain(size='tiny')". The checkpoint is restored
through the one loader, `vit22b_pax.runtime.restore.load` (the newest
intact step unless --step, the EMA when the learner keeps one; "[fewshot]
restored step N of <dir>" on stderr); the
tool extracts the same pre-logit features as the
training-time `FewshotProgram` (`fewshot_program.model_features`) for each
data set's shot pool and test set (`vit22b_pax.eval.fewshot_data`), and
prints a table of mean +- std top-1 over the draws of the shots
(`vit22b_pax.eval.fewshot`). `--random_init` evaluates the experiment's
freshly initialised model instead (seed RANDOM_SEED), as a baseline.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from praxis import base_hyperparams
from praxis import base_layer
from praxis import py_utils

from vit22b_pax.data import real
from vit22b_pax.eval import fewshot
from vit22b_pax.eval import fewshot_data
from vit22b_pax.runtime import experiment as experiment_lib
from vit22b_pax.runtime import fewshot_program
from vit22b_pax.runtime import restore

NestedMap = py_utils.NestedMap
instantiate = base_hyperparams.instantiate


def restore_feature_fn(
    experiment: Any, job_log_dir: str | None, step: int | None = None,
    random_init: bool = False,
) -> tuple[Callable[[NestedMap], np.ndarray], dict[str, Any]]:
  """(features_fn(batch) -> [B, D] float32, info) of a checkpoint.

  Args:
    experiment: instance, class, registered name or recipe call
      (`runtime.experiment.resolve`).
    job_log_dir: the training job's log dir.
    step: checkpoint step; None = the newest intact one.
    random_init: ignore checkpoints; initialise with the task's seed.

  The checkpoint goes through the one loader, `runtime.restore.load` (the
  newest intact step, the EMA of the weights when the learner keeps one).

  Raises:
    ValueError: no checkpoint (naming the folder), no such step, or a
      damaged one.
  """
  exp = experiment_lib.resolve(experiment)
  task_p = exp.task()
  jax_task = instantiate(task_p)
  model = jax_task.model
  specs = instantiate(exp.get_input_specs_provider_params()).get_input_specs()
  mesh = restore.model_mesh(model)
  info = {'experiment': (experiment if isinstance(experiment, str)
                        else type(exp).__name__)}
  if random_init:
    with base_layer.JaxContext.new_context():
      variables = model.init(
          {base_layer.PARAMS: jax.random.PRNGKey(task_p.train.random_seed),
           base_layer.RANDOM: jax.random.PRNGKey(0)},
          jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), specs))
    mdl_vars = {k: v for k, v in variables.items()
                if k not in (base_layer.SUMMARIES, base_layer.AUX_LOSS)}
    info.update(step=None, checkpoint_dir=None, random_init=True)
  else:
    if not job_log_dir:
      raise ValueError('--job_log_dir is required (or --random_init).')
    restored = restore.load(exp, job_log_dir, step, specs)
    mdl_vars = restored.variables
    info.update(step=restored.step, checkpoint_dir=restored.checkpoint_dir,
                random_init=False, ema=restored.ema,
                skipped=restored.skipped, restored=restored.describe())
  context_p = base_layer.JaxContext.HParams(do_eval=True)

  @jax.jit
  def _features(variables, batch):
    with base_layer.JaxContext.new_context(hparams=context_p):
      x = model.apply(variables, batch,
                      method=fewshot_program.model_features,
                      rngs={base_layer.RANDOM: jax.random.PRNGKey(0)})
    return x.astype(jnp.float32)

  def features_fn(batch: NestedMap) -> np.ndarray:
    if mesh is None:
      return np.asarray(_features(mdl_vars, batch))
    with mesh:
      return np.asarray(_features(mdl_vars, batch))

  return features_fn, info


def pass_features(features_fn, input_p) -> tuple[np.ndarray, np.ndarray]:
  """(features [N, D], labels [N]) of one pass of an eval input config."""
  inp = instantiate(input_p)
  feats, labels = [], []
  while True:
    try:
      batch = inp.get_next()
    except StopIteration:
      break
    keep = np.asarray(batch.eval_sample_weights) > 0
    feats.append(features_fn(batch)[keep])
    labels.append(np.asarray(batch.label)[keep])
  if not feats:
    raise ValueError(f'input {inp.name!r} produced no batch')
  return np.concatenate(feats), np.concatenate(labels)


def _ints(text: str) -> tuple[int, ...]:
  try:
    return tuple(int(v) for v in text.split(','))
  except ValueError as e:
    raise argparse.ArgumentTypeError(
        f'expected comma-separated integers, got {text!r}') from e


def _floats(text: str) -> tuple[float, ...]:
  try:
    return tuple(float(v) for v in text.split(','))
  except ValueError as e:
    raise argparse.ArgumentTypeError(
        f'expected comma-separated numbers, got {text!r}') from e


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  p.add_argument('--exp', required=True,
                 help="experiment: registered name or 'module.Class'")
  p.add_argument('--job_log_dir', default=None)
  p.add_argument('--step', type=int, default=None)
  p.add_argument('--random_init', action='store_true',
                 help='evaluate the freshly initialised model (baseline)')
  p.add_argument('--data', required=True,
                 help="comma-separated: procedural, fashion_mnist, "
                 "folder:<root>")
  p.add_argument('--shots', type=_ints, default=fewshot.DEFAULT_SHOTS)
  p.add_argument('--seeds', type=int, default=fewshot.DEFAULT_NUM_SEEDS)
  p.add_argument('--l2_selection', choices=fewshot.L2_SELECTIONS,
                 default=fewshot.DEFAULT_L2_SELECTION,
                 help="'fixed': l2 = --l2 (big_vision's protocol); "
                 "'held_out': chosen from --l2_grid on held-out shots, ties "
                 'to the l2 closest to --l2')
  p.add_argument('--l2', type=float, default=fewshot.DEFAULT_L2,
                 help='the fixed ridge l2 (big_vision: 1024)')
  p.add_argument('--l2_grid', type=_floats, default=fewshot.DEFAULT_L2_GRID,
                 help="ridge l2 candidates for --l2_selection=held_out "
                 '(default every power of two, 2^-4 .. 2^14)')
  p.add_argument('--pool_examples', type=int,
                 default=fewshot_data.DEFAULT_POOL_EXAMPLES)
  p.add_argument('--test_examples', type=int,
                 default=fewshot_data.DEFAULT_TEST_EXAMPLES)
  p.add_argument('--image_size', type=int, default=None,
                 help="default: the experiment's input specs' image_size")
  p.add_argument('--batch_size', type=int, default=100)
  p.add_argument('--fashion_mnist_dir', default=real.FASHION_MNIST_DIR)
  p.add_argument('--json', help='write the results to this JSON file')
  args = p.parse_args(argv)
  start = time.time()
  try:
    exp = experiment_lib.resolve(args.exp)
    image_size = args.image_size or getattr(
        exp.get_input_specs_provider_params(), 'image_size', None)
    if not image_size:
      raise ValueError('--image_size not given and the experiment\'s input '
                       'specs have no image_size')
    data = [fewshot_data.fewshot_data(
        spec, image_size, args.batch_size, args.pool_examples,
        args.test_examples, fashion_mnist_dir=args.fashion_mnist_dir)
            for spec in fewshot_data.parse_names(args.data)]
    features_fn, info = restore_feature_fn(exp, args.job_log_dir, args.step,
                                           args.random_init)
    if not info['random_init']:
      restore.report(info['restored'], 'fewshot')
    results = {}
    for d in data:
      pool_x, pool_y = pass_features(features_fn, d.pool)
      test_x, test_y = pass_features(features_fn, d.test)
      results[d.name] = fewshot.evaluate(
          pool_x, pool_y, test_x, test_y, d.num_classes, args.shots,
          args.seeds, args.l2_grid, args.l2, args.l2_selection)
  except ValueError as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  source = ('random init' if info['random_init'] else
            f'{info["checkpoint_dir"]} step {info["step"]}')
  l2 = (f'l2 {args.l2:g}' if args.l2_selection == 'fixed' else
        'l2 chosen on held-out shots')
  print(f'Few-shot top-1 (mean ± std over {args.seeds} draws, {l2}), '
        f'{info["experiment"]}, {source}:')
  print(fewshot.format_table(results))
  print(f'({time.time() - start:.0f} s)')
  if args.json:
    with open(args.json, 'w') as f:
      json.dump({'info': info, 'seconds': time.time() - start,
                 'results': {name: {str(k): r.as_dict() for k, r in
                                    res.items()}
                             for name, res in results.items()}}, f, indent=1)
  return 0


if __name__ == '__main__':
  sys.exit(main())
