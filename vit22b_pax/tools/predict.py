# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Classifies images with a trained or imported experiment: top-k classes.

  python -m vit22b_pax.tools.predict \
      --exp="fiddle_configs.public.vit(variant='B/16',pooling='cls',gelu='exact')" \
      --job_log_dir=runs/vit_b16 [--labels imagenet_labels.txt] [--top_k 5] \
      cat.jpg dog.png

Restores the checkpoint (`--step`, default the latest) with
`runtime.restore.restore_predict_fn`, decodes each image with the data
package's one evaluation crop (`data.crop.tf_resize_small_crop`: the shorter
side resized to the model's resolution / `--crop_fraction`, then the centre
square cropped, big_vision's resize_small | central_crop with the rounding
rule of `data/crop.py`; PNGs at 16 bit), and
prints the k most probable classes per image (softmax; per-class sigmoid for
a sigmoid head). `--labels` is a text file with one class name per line, in
class-id order; without it classes are printed as ids. `--json` also writes
the result.

The checkpoint goes through the one loader, `runtime.restore.load`: "the
latest" is the newest intact step, and "[predict] restored step N of <dir>"
on stderr names the step read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

from vit22b_pax.runtime import console
from vit22b_pax.runtime import restore


def read_labels(path: str, num_classes: int) -> list[str]:
  """Class names, one per line; exactly num_classes of them."""
  if not os.path.isfile(path):
    raise ValueError(f'No labels file at {path!r}.')
  with open(path, encoding='utf-8') as f:
    names = [line.rstrip('\r\n') for line in f]
  while names and not names[-1].strip():
    names.pop()
  if len(names) != num_classes:
    raise ValueError(f'{path!r} has {len(names)} class names but the model '
                     f'has {num_classes} classes (one name per line, in '
                     'class-id order).')
  return names


def load_images(paths, size: int, crop_fraction: float) -> np.ndarray:
  """Images -> [N, size, size, 3] float32 in [-1, 1] (the eval crop)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from vit22b_pax.data import crop  # pylint: disable=g-import-not-at-top
  from vit22b_pax.data import tfimage  # pylint: disable=g-import-not-at-top
  if not 0.0 < crop_fraction <= 1.0:
    raise ValueError(f'crop_fraction={crop_fraction} must be in (0, 1].')
  out = []
  for path in paths:
    if not os.path.isfile(path):
      raise ValueError(f'No image at {path!r}.')
    with open(path, 'rb') as f:
      raw = f.read()
    try:
      img = crop.tf_resize_small_crop(tfimage.decode(tf.constant(raw)),
                                      (size, size), crop_fraction)
    except (tf.errors.InvalidArgumentError, ValueError) as e:
      raise ValueError(f'{path!r} is not a readable image ('
                       f'{str(e).splitlines()[0]}).') from e
    out.append(np.clip(img.numpy(), 0.0, 1.0) * 2.0 - 1.0)
  return np.stack(out).astype(np.float32)


def top_k(probs: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
  """[(class id, probability)] of the k largest per row, best first."""
  order = np.argsort(-probs, axis=-1, kind='stable')[:, :k]
  return [[(int(c), float(p[c])) for c in row] for p, row in zip(probs,
                                                                  order)]


def main(argv=None) -> int:
  console.quiet_harmless()  # orbax's legacy-API notices.
  p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  p.add_argument('--exp', required=True,
                 help='registered experiment or recipe call')
  p.add_argument('--job_log_dir', required=True)
  p.add_argument('--step', type=int, default=None,
                 help='default: the newest intact checkpoint')
  p.add_argument('images', nargs='+', help='image files (JPEG, PNG, ...)')
  p.add_argument('--labels', default=None,
                 help='class names, one per line, in class-id order')
  p.add_argument('--top_k', type=int, default=5)
  p.add_argument('--crop_fraction', type=float, default=0.875,
                 help='centre crop of the shorter side (1.0 = all of it)')
  p.add_argument('--batch_size', type=int, default=32)
  p.add_argument('--json', default=None, help='also write the result here')
  args = p.parse_args(argv)
  try:
    if args.top_k <= 0 or args.batch_size <= 0:
      raise ValueError(f'--top_k={args.top_k} and --batch_size='
                       f'{args.batch_size} must be positive.')
    predict_fn, info = restore.restore_predict_fn(
        args.exp, args.job_log_dir, step=args.step)
    restore.report(info['restored'], 'predict')
    k = min(args.top_k, info['num_classes'])
    names = (read_labels(args.labels, info['num_classes']) if args.labels
             else [str(i) for i in range(info['num_classes'])])
    results = []
    for start in range(0, len(args.images), args.batch_size):
      paths = args.images[start:start + args.batch_size]
      images = load_images(paths, info['image_size'], args.crop_fraction)
      probs = predict_fn(images)
      for path, best in zip(paths, top_k(probs, k)):
        results.append({'image': path, 'top_k': [
            {'class': c, 'label': names[c], 'prob': prob}
            for c, prob in best]})
  except ValueError as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  kind = 'sigmoid' if info['sigmoid'] else 'softmax'
  print(f'restored step {info["step"]} from {info["checkpoint_dir"]} '
        f'({info["num_classes"]} classes, {info["image_size"]} px, {kind})')
  for result in results:
    print(result['image'])
    for rank, entry in enumerate(result['top_k'], 1):
      print(f'  {rank}. {entry["label"]}  {entry["prob"]:.4f}')
  if args.json:
    with open(args.json, 'w') as f:
      json.dump({'step': info['step'], 'results': results}, f, indent=1)
  return 0


if __name__ == '__main__':
  sys.exit(main())
