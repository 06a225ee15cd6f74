# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Input / ground truth / prediction grid of a dense checkpoint, as PNG.

  python -m vit22b_pax.tools.dense_pictures \
      --exp="fiddle_configs.dense.segmentation(size='tiny',pretrain_dir='runs/pretrain')" \
      --job_log_dir=runs/seg --out=docs/dense_seg.png --num_images=4

`--exp` is the recipe call (or registered experiment) the job ran, `--set`
takes the job's `--fdl=set:` overrides. Restores the latest (or `--step`)
checkpoint of the experiment's model the way paxml's evaluation does
(`vit22b_pax.runtime.restore`), runs it on the
first `--num_images` images of the experiment's first eval data set and
draws one row per image: the input, the ground truth and the prediction.
Segmentation maps use one fixed colour per class (ignored pixels black, a
legend names the classes); depth maps share one heat-map scale per row
(invalid ground truth black). Each row's title gives that image's pixel
accuracy / mIoU or AbsRel / delta1.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from typing import Any, Sequence

import jax
import numpy as np
from paxml import checkpoints
from paxml import trainer_lib
from praxis import base_hyperparams
from praxis import base_layer
from praxis import py_utils

from vit22b_pax.eval import dense_metrics
from vit22b_pax.runtime import checkpoints as checkpoints_lib
from vit22b_pax.runtime import experiment as experiment_lib
from vit22b_pax.runtime import restore

NestedMap = py_utils.NestedMap

# Distinct colours (class 0 first); cycled beyond 20 classes.
PALETTE = np.array([
    [0.55, 0.55, 0.55], [0.90, 0.10, 0.10], [0.10, 0.60, 0.15],
    [0.15, 0.35, 0.90], [0.95, 0.80, 0.10], [0.95, 0.50, 0.05],
    [0.60, 0.20, 0.75], [0.10, 0.80, 0.85], [0.95, 0.45, 0.70],
    [0.50, 0.30, 0.10], [0.70, 0.90, 0.30], [0.00, 0.30, 0.40],
    [1.00, 0.75, 0.60], [0.40, 0.00, 0.10], [0.75, 0.75, 1.00],
    [0.30, 0.30, 0.00], [0.00, 0.50, 0.50], [0.85, 0.65, 0.95],
    [0.20, 0.20, 0.20], [1.00, 1.00, 1.00]], np.float32)


def colorize_labels(labels: np.ndarray) -> np.ndarray:
  """[..., H, W] class ids (< 0 = ignore) -> [..., H, W, 3] RGB in [0, 1]."""
  labels = np.asarray(labels)
  rgb = PALETTE[np.maximum(labels, 0) % len(PALETTE)]
  return np.where((labels < 0)[..., None], 0.0, rgb).astype(np.float32)


def depth_heat(depth: np.ndarray, valid: np.ndarray | None, lo: float,
               hi: float, cmap: str = 'magma_r') -> np.ndarray:
  """[H, W] depth -> [H, W, 3] heat map over [lo, hi] (invalid black)."""
  from matplotlib import colormaps  # pylint: disable=g-import-not-at-top
  t = np.clip((np.asarray(depth, np.float64) - lo) / max(hi - lo, 1e-9), 0,
              1)
  rgb = colormaps[cmap](t)[..., :3].astype(np.float32)
  if valid is not None:
    rgb = np.where(np.asarray(valid)[..., None] > 0, rgb, 0.0)
  return rgb


def restore_variables(exp, job_log_dir: str, input_specs: NestedMap,
                      step: int | None = None) -> tuple[Any, Any, int]:
  """(model, eval variables, step) of an experiment's checkpoint."""
  step = checkpoints_lib.resolve(job_log_dir, step).step
  ckpt_dir = checkpoints_lib.checkpoint_dir(job_log_dir)
  task_p = exp.task()
  jax_task = base_hyperparams.instantiate(task_p)
  ckpt_type = restore.checkpoint_type(task_p)
  with base_layer.JaxContext.new_context():
    meta = trainer_lib.create_train_state_metadata(
        jax_task, input_specs,
        discard_opt_states=ckpt_type == checkpoints.CheckpointType.GDA,
        do_eval=True)
    kwargs = {}
    shapes = meta.unpadded_global_shapes
    if ckpt_type == checkpoints.CheckpointType.GDA:
      mesh_shape = jax_task.model.hparams.mesh_shape
      kwargs = dict(global_mesh=jax.sharding.Mesh(
          np.array(jax.devices()[:math.prod(mesh_shape)]).reshape(
              mesh_shape), jax_task.model.hparams.mesh_axis_names),
                    state_specs=meta.partition_specs)
      shapes = meta.padded_global_shapes
    state = checkpoints.restore_checkpoint(
        shapes, ckpt_dir, checkpoint_type=ckpt_type, step=step,
        state_unpadded_shape_dtype_struct=meta.unpadded_global_shapes,
        **kwargs)
  return jax_task.model, state.to_eval_state().mdl_vars, step


def eval_input(exp) -> Any:
  """The config of the experiment's first eval input (a dense recipe's eval
  programs hold it; otherwise its first eval data set)."""
  for program in exp.eval_programs():
    input_p = getattr(program, 'input_p', None)
    if input_p is not None:
      return input_p
  evals = list(exp.eval_datasets())
  if not evals:
    raise ValueError('The experiment has no eval data set.')
  return evals[0]


def eval_batch(input_p, num_images: int) -> NestedMap:
  """The first `num_images` examples of an eval input."""
  inp_p = input_p.clone()
  inp_p.batch_size = num_images
  batch = base_hyperparams.instantiate(inp_p).get_next()
  return jax.tree_util.tree_map(np.asarray, batch)


def predict(model, variables, batch: NestedMap) -> NestedMap:
  context_p = base_layer.JaxContext.HParams(do_eval=True)

  @jax.jit
  def fn(v, b):
    with base_layer.JaxContext.new_context(hparams=context_p):
      return model.apply(v, b, method=model.compute_predictions)

  return jax.tree_util.tree_map(np.asarray, fn(variables, batch))


def row_title(task: str, batch: NestedMap, pred: NestedMap, i: int,
              num_classes: int) -> str:
  if task == 'segmentation':
    ok = batch.label[i] >= 0
    m = dense_metrics.confusion_matrix(batch.label[i], pred.label[i],
                                       ok.astype(np.float32), num_classes)
    s = dense_metrics.segmentation_scores(m)
    return f'pixel acc {s["pixel_accuracy"]:.3f}, mIoU {s["miou"]:.3f}'
  s = dense_metrics.depth_scores(dense_metrics.depth_sums(
      pred.depth[i:i + 1], batch.depth[i:i + 1], batch.depth_valid[i:i + 1],
      1e-3, 1e9))
  return f'AbsRel {s["abs_rel"]:.3f}, delta1 {s["delta1"]:.3f}'


def draw_grid(task: str, batch: NestedMap, pred: NestedMap, out: str,
              class_names: Sequence[str] = (), title: str = '') -> None:
  """Writes the input / ground truth / prediction grid to `out` (PNG)."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  from matplotlib import patches  # pylint: disable=g-import-not-at-top
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  n = batch.image.shape[0]
  h, w = batch.image.shape[1:3]
  cell = 2.2
  fig, axes = plt.subplots(n, 3, figsize=(3 * cell * w / h + 0.4,
                                          n * cell + 0.9), squeeze=False)
  num_classes = len(class_names) or (pred.logits.shape[-1]
                                     if 'logits' in pred else 0)
  for i in range(n):
    image = (batch.image[i] + 1.0) / 2.0
    if task == 'segmentation':
      gt, pr = colorize_labels(batch.label[i]), colorize_labels(pred.label[i])
    else:
      ok = batch.depth_valid[i] > 0
      lo, hi = ((float(batch.depth[i][ok].min()),
                 float(batch.depth[i][ok].max())) if ok.any() else (0., 1.))
      gt = depth_heat(batch.depth[i], batch.depth_valid[i], lo, hi)
      pr = depth_heat(pred.depth[i], None, lo, hi)
    for j, (img, name) in enumerate(((image, 'input'), (gt, 'ground truth'),
                                     (pr, 'prediction'))):
      ax = axes[i, j]
      ax.imshow(np.clip(img, 0, 1), interpolation='nearest')
      ax.set_xticks([])
      ax.set_yticks([])
      if i == 0:
        ax.set_title(name, fontsize=9)
    axes[i, 2].set_xlabel(row_title(task, batch, pred, i, num_classes),
                          fontsize=7)
  if task == 'segmentation' and class_names:
    handles = [patches.Patch(color=PALETTE[c % len(PALETTE)], label=name)
               for c, name in enumerate(class_names)]
    fig.legend(handles=handles, loc='lower center', ncol=min(
        len(handles), 5), fontsize=7, frameon=False)
  else:
    fig.text(0.5, 0.01, 'depth: near = bright, far = dark (per-row scale); '
             'black = invalid', ha='center', fontsize=7)
  if title:
    fig.suptitle(title, fontsize=9)
  fig.tight_layout(rect=(0, 0.06, 1, 0.97))
  os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
  fig.savefig(out, dpi=110)
  plt.close(fig)


def parse_constants(items: Sequence[str]) -> dict[str, Any]:
  """['BACKBONE="random"', 'TRAIN_STEPS=5'] -> {name: Python literal}."""
  out = {}
  for item in items:
    name, sep, value = item.partition('=')
    if not sep or not name.isupper():
      raise ValueError(f'--set {item!r}: expected UPPER_CASE_NAME=literal.')
    try:
      out[name] = ast.literal_eval(value)
    except (ValueError, SyntaxError) as e:
      raise ValueError(f'--set {item!r}: {value!r} is not a Python literal '
                       "(quote strings: BACKBONE='\"random\"').") from e
  return out


def dense_pictures(experiment: Any, job_log_dir: str, out: str,
                   num_images: int = 4, step: int | None = None,
                   overrides: Sequence[str] = ()) -> dict:
  """Restores, predicts and draws; returns {'step', 'out', 'task'}.

  Args:
    experiment: recipe call, registered name, class or instance
      (`runtime.experiment.resolve`).
    job_log_dir: the dense training job's log dir.
    out: PNG path.
    num_images: rows.
    step: checkpoint step (None = latest).
    overrides: the job's 'path=value' overrides (as --fdl=set:).
  """
  if num_images <= 0:
    raise ValueError(f'num_images={num_images} must be positive.')
  exp = experiment_lib.resolve(experiment, overrides)
  model_p = exp.task().model
  task = getattr(model_p, 'task', None)
  if task not in ('segmentation', 'depth'):
    raise ValueError('The experiment model is not a DenseModel (no '
                     "task 'segmentation' / 'depth').")
  input_p = eval_input(exp)
  batch = eval_batch(input_p, num_images)
  specs = jax.tree_util.tree_map(
      lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), batch)
  model, variables, step = restore_variables(exp, job_log_dir, specs, step)
  pred = predict(model, variables, batch)
  names = tuple(getattr(base_hyperparams.instantiate(input_p), 'class_names',
                        ()) or ())
  draw_grid(task, batch, pred, out, names if task == 'segmentation' else (),
            title=f'{exp.task().name} step {step}')
  return dict(step=step, out=out, task=task)


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--exp', required=True,
                      help="Recipe call the job ran (e.g. "
                      "fiddle_configs.dense.depth(size='tiny')) or a "
                      'registered experiment.')
  parser.add_argument('--job_log_dir', required=True, help='Its job_log_dir.')
  parser.add_argument('--out', required=True, help='Output PNG path.')
  parser.add_argument('--num_images', type=int, default=4,
                      help='Rows (eval images).')
  parser.add_argument('--step', type=int, default=None,
                      help='Checkpoint step (default: the latest).')
  parser.add_argument('--set', action='append', default=[],
                      help="The job's --fdl=set: overrides, path=value.")
  args = parser.parse_args(argv)
  info = dense_pictures(args.exp, args.job_log_dir, args.out, args.num_images,
                        args.step, args.set)
  print(f'Wrote {info["out"]} ({info["task"]}, checkpoint step '
        f'{info["step"]}).')
  return 0


if __name__ == '__main__':
  sys.exit(main())
