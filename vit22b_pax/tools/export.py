# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Exports a trained or imported classifier as a TensorFlow SavedModel.

  python -m vit22b_pax.tools.export \
      --exp="fiddle_configs.public.vit(variant='B/16',pooling='cls',gelu='exact')" \
      --job_log_dir=runs/vit_b16 --out runs/vit_b16/saved_model \
      [--step N] [--platforms cpu,cuda,tpu]

The SavedModel's `serving_default` signature takes `images`: uint8
[batch, S, S, 3] RGB at the model's resolution S (resize / crop before,
e.g. as `tools/predict` does), any batch size, and returns `probabilities`
[batch, K] float32 (softmax, or per-class sigmoid for a sigmoid head).

The model is converted with `jax.experimental.jax2tf` (native serialization:
the StableHLO of the JAX function, `(b, S, S, 3)` batch-polymorphic, lowered
for `--platforms`); the weights are `tf.Variable`s of the SavedModel, read
from the checkpoint (`weights.classifier_fn`, through the one loader
`runtime.restore.load`: the newest intact step unless `--step`, the EMA of
the weights when the learner keeps one; "[export] restored step N of <dir>"
on stderr). `export.json` next to it records the resolution, classes, head
type, checkpoint step and what was restored.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Sequence

import jax.numpy as jnp

from vit22b_pax.runtime import console
from vit22b_pax.runtime import restore
from vit22b_pax.weights import classifier_fn

PLATFORMS = ('cpu', 'cuda', 'rocm', 'tpu')


def export_saved_model(experiment: Any, job_log_dir: str, out_dir: str, *,
                       step: int | None = None,
                       platforms: Sequence[str] = ('cpu',)) -> dict[str, Any]:
  """Writes the SavedModel of a classifier checkpoint; returns its facts.

  Raises:
    ValueError: unknown platform, no checkpoint, an existing non-empty
      out_dir, or a checkpoint that does not fit the experiment.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from jax.experimental import jax2tf  # pylint: disable=g-import-not-at-top
  bad = [p for p in platforms if p not in PLATFORMS]
  if bad or not platforms:
    raise ValueError(f'Unknown platforms {bad or list(platforms)}; expected '
                     f'some of {PLATFORMS}.')
  if os.path.isdir(out_dir) and os.listdir(out_dir):
    raise ValueError(f'{out_dir!r} exists and is not empty.')
  fn = classifier_fn.load(experiment, job_log_dir, step)
  restore.report(fn.restored, 'export')
  size = fn.image_size

  def serve(variables, images):
    x = images.astype(jnp.float32) / 127.5 - 1.0  # uint8 -> [-1, 1]
    return fn.probs(variables, x)

  converted = jax2tf.convert(
      serve, polymorphic_shapes=[None, f'(b, {size}, {size}, 3)'],
      with_gradient=False, native_serialization_platforms=tuple(platforms))
  module = tf.Module()
  module.weights = tf.nest.map_structure(
      lambda a: tf.Variable(a, trainable=False), fn.variables)

  @tf.function(autograph=False, input_signature=[
      tf.TensorSpec([None, size, size, 3], tf.uint8, name='images')])
  def serving(images):
    return {'probabilities': converted(module.weights, images)}

  module.serving = serving
  tf.saved_model.save(module, out_dir,
                      signatures={'serving_default': serving})
  facts = {'image_size': size, 'num_classes': fn.num_classes,
           'head': 'sigmoid' if fn.sigmoid else 'softmax', 'step': fn.step,
           'input': f'uint8 [batch, {size}, {size}, 3] RGB',
           'output': f'probabilities float32 [batch, {fn.num_classes}]',
           'platforms': list(platforms), 'restored': fn.restored}
  with open(os.path.join(out_dir, 'export.json'), 'w') as f:
    json.dump(facts, f, indent=1)
  return facts


def main(argv=None) -> int:
  console.quiet_harmless()  # orbax's legacy-API notices.
  p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  p.add_argument('--exp', required=True,
                 help='registered experiment or recipe call')
  p.add_argument('--job_log_dir', required=True)
  p.add_argument('--out', required=True, help='SavedModel directory')
  p.add_argument('--step', type=int, default=None,
                 help='default: the newest intact checkpoint')
  p.add_argument('--platforms', default='cpu',
                 help=f'comma-separated, some of {",".join(PLATFORMS)}')
  args = p.parse_args(argv)
  try:
    facts = export_saved_model(
        args.exp, args.job_log_dir, args.out, step=args.step,
        platforms=[s for s in args.platforms.split(',') if s])
  except ValueError as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  print(f'SavedModel: {args.out} (step {facts["step"]}); serving_default: '
        f'images {facts["input"]} -> {facts["output"]} ({facts["head"]}), '
        f'platforms {",".join(facts["platforms"])}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
