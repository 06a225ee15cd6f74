# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Images/s of the real-image inputs: PIL/NumPy path vs tf.data path.

    python -m vit22b_pax.data.bench [--out bench.json] [--seconds 5]
        [--repeats 3] [--image_size 224] [--batch_size 32]

Variants: `before` = the PIL/NumPy path as it was before the tf.data input
(decode, resize the shorter side, centre crop, then the Inception crop of
that square in numpy), `numpy` = today's `real.ImageFolderInput` (PIL, the
crop box taken on the full-resolution image), `tfdata` =
`tfdata.TfDataImageFolderInput`.

Writes its own photos first: `--num_images` JPEGs of 500 x 375 (quality 90,
ImageNet's typical size) into an image folder. They are random crops, flips
and colour casts of matplotlib's bundled photo `grace_hopper.jpg` when
matplotlib is installed, else generated smooth colour fields with edges and
noise. Then, for each repeat, it times in turn (the order rotates every
repeat, so a neighbour's load on a shared machine hits every variant):

  before/train  the former path (see above), Inception crop + flip
  numpy/train   real.ImageFolderInput, Inception crop + flip (PIL decode and
                resize on the calling thread)
  tfdata/train  tfdata.TfDataImageFolderInput, same augmentation (parallel
                tf.data decode on all cores)
  before/eval   the former path: shorter side -> 224, centre crop
  numpy/eval    resize_small + central crop (crop_fraction 0.875)
  tfdata/eval   the same on tf.data

Each timing runs get_next() for `--seconds` after 2 warm-up batches and
reports images/s (wall), images per CPU-second of the whole process (all
threads: the per-core throughput) and the cores busy (CPU s / wall s). The
summary holds medians over repeats and the per-repeat paired ratios
tfdata / numpy and tfdata / before. Everything goes to stdout and, with
--out, to JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from typing import Any, Callable, Sequence

import numpy as np
from PIL import Image

from vit22b_pax.data import augment
from vit22b_pax.data import crop
from vit22b_pax.data import folders
from vit22b_pax.data import real
from vit22b_pax.data import tfdata

PHOTO_SIZE = (500, 375)  # width, height
VARIANTS = ('before/train', 'numpy/train', 'tfdata/train', 'before/eval',
            'numpy/eval', 'tfdata/eval')


def _before_load(path: str, size: int) -> np.ndarray:
  """The former PIL load: shorter side -> size, centre crop, [S, S, 3] (the
  package's one crop, `crop.pil_resize_small_crop`)."""
  with Image.open(path) as img:
    img = crop.pil_resize_small_crop(img.convert('RGB'), (size, size))
    return np.asarray(img, np.float32) / 255.0


class BeforeInput:
  """Replica of the PIL/NumPy image-folder path this change replaces.

  Decode + resize the shorter side to image_size + centre crop with PIL, one
  image at a time; in training, the Inception crop of that square and the
  flip in numpy (`augment`), as `IndexedImageInput` did. Only for timing.
  """

  def __init__(self, root: str, image_size: int, batch_size: int,
               is_training: bool):
    self.files = folders.list_split(root, 'train').files
    self.size, self.batch, self.train = image_size, batch_size, is_training
    self.step = 0

  def get_next(self) -> dict[str, np.ndarray]:
    n = len(self.files)
    idx = (np.arange(self.batch) + self.step * self.batch) % n
    images = np.stack([_before_load(self.files[i], self.size) for i in idx])
    if self.train:
      rng = np.random.default_rng((0, self.step))
      images = augment.inception_crop(images, rng, self.size)
      images = augment.random_flip_lr(images, rng)
    self.step += 1
    return dict(image=images * 2.0 - 1.0, label=idx % 2)


def _base_photo() -> tuple[np.ndarray | None, str]:
  try:
    import matplotlib.cbook  # pylint: disable=g-import-not-at-top
    path = matplotlib.cbook.get_sample_data('grace_hopper.jpg',
                                            asfileobj=False)
    with Image.open(path) as img:
      return np.asarray(img.convert('RGB')), 'matplotlib grace_hopper.jpg'
  except (ImportError, OSError, ValueError):
    return None, 'generated'


def _generated_photo(rng: np.random.Generator) -> np.ndarray:
  """A smooth colour field with a few sharp-edged shapes and sensor noise."""
  w, h = PHOTO_SIZE
  y, x = np.mgrid[0:h, 0:w].astype(np.float32) / h
  img = np.zeros((h, w, 3), np.float32)
  for c in range(3):
    for _ in range(4):
      fx, fy, ph = rng.uniform(0.5, 6, 2).tolist() + [rng.uniform(0, 6.3)]
      img[..., c] += np.sin(fx * x + fy * y + ph) * rng.uniform(20, 50)
  for _ in range(6):
    cy, cx, r = rng.uniform(0, 1), rng.uniform(0, w / h), rng.uniform(.05, .3)
    img[(y - cy) ** 2 + (x - cx) ** 2 < r * r] += rng.uniform(-80, 80, 3)
  img += 128 + rng.normal(0, 6, img.shape)
  return np.clip(img, 0, 255).astype(np.uint8)


def write_photos(root: str, num_images: int, seed: int = 0) -> str:
  """Writes root/train/<class>/<i>.jpg (2 classes); returns the source."""
  rng = np.random.default_rng(seed)
  base, source = _base_photo()
  w, h = PHOTO_SIZE
  for i in range(num_images):
    if base is None:
      img = Image.fromarray(_generated_photo(rng))
    else:
      bh, bw = base.shape[:2]
      cw = int(bw * rng.uniform(0.55, 1.0))
      ch = min(bh, int(cw * h / w))
      left, top = rng.integers(0, bw - cw + 1), rng.integers(0, bh - ch + 1)
      crop = base[top:top + ch, left:left + cw].astype(np.float32)
      crop = np.clip(crop * rng.uniform(0.7, 1.3, 3), 0, 255).astype(np.uint8)
      img = Image.fromarray(crop).resize(PHOTO_SIZE, Image.BICUBIC)
      if rng.random() < 0.5:
        img = img.transpose(Image.FLIP_LEFT_RIGHT)
    class_dir = os.path.join(root, 'train', f'class{i % 2}')
    os.makedirs(class_dir, exist_ok=True)
    img.save(os.path.join(class_dir, f'{i:05d}.jpg'), quality=90)
  return source


def time_input(make: Callable[[], Any], seconds: float) -> dict[str, float]:
  """Times get_next() of a fresh input for `seconds` after 2 warm-ups."""
  inp = make()
  for _ in range(2):
    inp.get_next()
  images, start, cpu = 0, time.perf_counter(), time.process_time()
  while time.perf_counter() - start < seconds:
    images += len(inp.get_next()['label'])
  wall, cpu_s = time.perf_counter() - start, time.process_time() - cpu
  return dict(images=images, wall_s=round(wall, 3), cpu_s=round(cpu_s, 3),
              images_per_s=round(images / wall, 1),
              images_per_cpu_s=round(images / cpu_s, 1),
              cores_busy=round(cpu_s / wall, 2))


def _machine() -> dict[str, Any]:
  model = ''
  try:
    with open('/proc/cpuinfo') as f:
      model = next((l.split(':', 1)[1].strip() for l in f
                    if l.startswith('model name')), '')
  except OSError:
    pass
  return dict(cpu_count=os.cpu_count(), cpu_model=model,
              platform=platform.platform(),
              loadavg_start=os.getloadavg() if hasattr(os, 'getloadavg')
              else None)


def run(root: str, image_size: int, batch_size: int, seconds: float,
        repeats: int) -> dict[str, Any]:
  """Interleaved timings of the four VARIANTS; see the module docstring."""
  def make(variant: str):
    path, mode = variant.split('/')
    train = mode == 'train'
    if path == 'before':
      return lambda: BeforeInput(root, image_size, batch_size, train)
    cls = (real.ImageFolderInput if path == 'numpy'
           else tfdata.TfDataImageFolderInput)
    return lambda: cls(root=root, split='train', image_size=image_size,
                       batch_size=batch_size, is_training=train,
                       inception_crop=train, flip=train,
                       name=variant.replace('/', '_'))

  runs = []
  for r in range(repeats):
    order = VARIANTS[r % len(VARIANTS):] + VARIANTS[:r % len(VARIANTS)]
    for variant in order:
      row = dict(repeat=r, variant=variant, **time_input(make(variant),
                                                         seconds))
      runs.append(row)
      print(f'  repeat {r} {variant:13s} {row["images_per_s"]:8.1f} img/s '
            f'{row["images_per_cpu_s"]:8.1f} img/cpu-s '
            f'{row["cores_busy"]:5.2f} cores', flush=True)
  summary = {}
  for v in VARIANTS:
    rows = [x for x in runs if x['variant'] == v]
    summary[v] = {k: statistics.median(x[k] for x in rows)
                  for k in ('images_per_s', 'images_per_cpu_s',
                            'cores_busy')}
  for base in ('numpy', 'before'):
    for mode in ('train', 'eval'):
      ratios = []
      for r in range(repeats):
        get = lambda p, k: next(x[k] for x in runs if x['repeat'] == r and
                                x['variant'] == f'{p}/{mode}')
        ratios.append(dict(
            wall=round(get('tfdata', 'images_per_s')
                       / get(base, 'images_per_s'), 2),
            per_cpu_s=round(get('tfdata', 'images_per_cpu_s')
                            / get(base, 'images_per_cpu_s'), 2)))
      summary[f'ratio_tfdata_over_{base}/{mode}'] = dict(
          per_repeat=ratios,
          median_wall=statistics.median(x['wall'] for x in ratios),
          median_per_cpu_s=statistics.median(x['per_cpu_s']
                                             for x in ratios))
  return dict(runs=runs, summary=summary)


def main(argv: Sequence[str] | None = None) -> int:
  ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  ap.add_argument('--out', default='', help='JSON output path.')
  ap.add_argument('--seconds', type=float, default=5.0,
                  help='timed seconds per variant and repeat.')
  ap.add_argument('--repeats', type=int, default=3)
  ap.add_argument('--image_size', type=int, default=224)
  ap.add_argument('--batch_size', type=int, default=32)
  ap.add_argument('--num_images', type=int, default=256)
  ap.add_argument('--dir', default='', help='where to write the photos '
                  '(default: a temporary folder, deleted afterwards).')
  args = ap.parse_args(argv)
  for name in ('seconds', 'repeats', 'image_size', 'batch_size',
               'num_images'):
    if getattr(args, name) <= 0:
      raise ValueError(f'--{name}={getattr(args, name)} must be > 0.')
  if args.num_images < args.batch_size:
    raise ValueError(f'--num_images={args.num_images} must be >= '
                     f'--batch_size={args.batch_size}.')
  machine = _machine()  # Load average before the run.
  with tempfile.TemporaryDirectory() as tmp:
    root = args.dir or tmp
    source = write_photos(root, args.num_images)
    print(f'{args.num_images} JPEGs {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} from '
          f'{source} in {root}; {args.image_size} px, batch '
          f'{args.batch_size}, {args.seconds} s x {args.repeats} repeats',
          flush=True)
    result = run(root, args.image_size, args.batch_size, args.seconds,
                 args.repeats)
  machine['loadavg_end'] = (os.getloadavg() if hasattr(os, 'getloadavg')
                            else None)
  result.update(machine=machine, photos=dict(
      source=source, count=args.num_images, width=PHOTO_SIZE[0],
      height=PHOTO_SIZE[1], jpeg_quality=90), config=vars(args))
  s = result['summary']
  print(f'\n{"variant":14s} {"img/s":>8s} {"img/cpu-s":>10s} {"cores":>6s}'
        '   (medians)')
  for v in VARIANTS:
    print(f'{v:14s} {s[v]["images_per_s"]:8.1f} '
          f'{s[v]["images_per_cpu_s"]:10.1f} {s[v]["cores_busy"]:6.2f}')
  for base in ('numpy', 'before'):
    for mode in ('train', 'eval'):
      r = s[f'ratio_tfdata_over_{base}/{mode}']
      print(f'tfdata / {base}, {mode}: {r["median_wall"]:.2f}x images/s, '
            f'{r["median_per_cpu_s"]:.2f}x images per CPU-second '
            f'(per repeat: {[x["wall"] for x in r["per_repeat"]]})')
  print(f'machine: {machine["cpu_count"]} CPUs ({machine["cpu_model"]}), '
        f'load average {machine["loadavg_start"]} -> {machine["loadavg_end"]}')
  if args.out:
    with open(args.out, 'w') as f:
      json.dump(result, f, indent=1)
  return 0


if __name__ == '__main__':
  raise SystemExit(main())
