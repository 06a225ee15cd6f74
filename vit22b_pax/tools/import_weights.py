# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Imports a public ViT checkpoint (big_vision .npz, timm .safetensors).

  .venv/bin/python -m vit22b_pax.tools.import_weights --format big_vision \
      --src augreg_B_16-i21k-...-res_224.npz --variant B/16 \
      [--image_size 384] --job_log_dir runs/vit_b16
  .venv/bin/python -m vit22b_pax.tools.import_weights --format timm \
      --src model.safetensors --variant B/16 --normalization inception \
      --job_log_dir runs/vit_b16_timm

Reads the checkpoint (big_vision: `np.load(allow_pickle=False)`, AugReg and
SigLIP names, `PATH:img` for a SigLIP image tower; timm: our numpy
safetensors reader, timm or Hugging Face transformers names), checks every
tensor against the variant, maps it into our encoder's standard-ViT mode
(`fiddle_configs.public`), resamples the position embedding once if
`--image_size` differs from the checkpoint's (big_vision: scipy zoom,
order 1; timm: bicubic with antialiasing, as each codebase does), folds the
input normalisation into the patch embedding, writes a paxml checkpoint
(step 0) to `<job_log_dir>/checkpoints` and `import.json` next to it, and
prints the commands that use it: predict, probe, fine-tune, export. The
probe and fine-tune commands fit the machine: without an accelerator
(`jax.devices()[0].platform == 'cpu'`) they are CPU-sized (`--size smoke`:
20 steps of batch 8, fine-tuning at the source's resolution); with one, the
`b16` run.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

import jax

from fiddle_configs import public
from vit22b_pax.layers import variants
from vit22b_pax.runtime import console
from vit22b_pax.tools import runs
from vit22b_pax.weights import big_vision
from vit22b_pax.weights import layout
from vit22b_pax.weights import timm
from vit22b_pax.weights import writer

FORMATS = ('big_vision', 'timm')
# How printed commands start (README's convention: the repository's venv).
PYTHON = '.venv/bin/python'
# The printed probe / fine-tune on a CPU: (steps, batch_size).
CPU_RUN = (20, 8)


def parse_args(argv=None) -> argparse.Namespace:
  p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  p.add_argument('--format', required=True, choices=FORMATS)
  p.add_argument('--src', required=True,
                 help='.npz (big_vision; PATH:img for a SigLIP image tower) '
                 'or .safetensors (timm / Hugging Face)')
  p.add_argument('--variant', required=True,
                 help='size and patch, e.g. B/16, L/16, S/32 (the '
                 'size table of vit22b_pax.layers.variants)')
  p.add_argument('--width', type=int, help='override the variant\'s width')
  p.add_argument('--depth', type=int, help='override the variant\'s depth')
  p.add_argument('--mlp_dim', type=int, help='override the MLP width')
  p.add_argument('--num_heads', type=int, help='override the heads')
  p.add_argument('--image_size', type=int, default=None,
                 help='resolution to use (default: the checkpoint\'s)')
  p.add_argument('--pooling', choices=layout.POOLINGS, default=None,
                 help='default: MAP head -> map, class token -> cls, '
                 'else gap')
  p.add_argument('--normalization', default=None,
                 help='input normalisation the source was trained with: '
                 'inception (mean=std=0.5; big_vision default), imagenet, '
                 'or m1,m2,m3/s1,s2,s3 (required for timm)')
  p.add_argument('--gelu', choices=sorted(public.GELUS), default=None,
                 help='default: tanh (big_vision), exact (timm)')
  p.add_argument('--num_classes', type=int, default=None,
                 help='head width for a checkpoint without a head (a '
                 'zero-initialised head is written)')
  p.add_argument('--loss', choices=('softmax', 'sigmoid'), default='softmax',
                 help='softmax (single-label heads) or sigmoid (multi-label '
                 'pretraining heads, e.g. ImageNet-21k)')
  p.add_argument('--size', default=None,
                 help='run size of the printed recipes (common.SCALES); '
                 'default: smoke (20 steps of batch 8) on a CPU, b16 with '
                 'an accelerator')
  p.add_argument('--scan', action='store_true',
                 help='stack the blocks with nn.scan (large models)')
  p.add_argument('--job_log_dir', required=True)
  return p.parse_args(argv)


def dims_of(args: argparse.Namespace) -> layout.Dims:
  v, patch = variants.decode_variant(args.variant)
  return layout.Dims(width=args.width or v.model_dims,
                     depth=args.depth or v.num_layers,
                     mlp_dim=args.mlp_dim or v.hidden_dims,
                     num_heads=args.num_heads or v.num_heads, patch=patch)


def read(args: argparse.Namespace) -> layout.Imported:
  """The checkpoint named by the arguments, in our layout."""
  dims = dims_of(args)
  name = f'ViT-{args.variant}'
  if args.format == 'big_vision':
    return big_vision.read(
        args.src, dims, name, image_size=args.image_size,
        pooling=args.pooling, normalization=args.normalization or 'inception',
        gelu_approximate=args.gelu != 'exact')
  return timm.read(args.src, dims, name, image_size=args.image_size,
                   pooling=args.pooling, normalization=args.normalization,
                   gelu_approximate=args.gelu == 'tanh')


def recipe_args(args: argparse.Namespace, imported: layout.Imported
                ) -> dict[str, Any]:
  """Arguments of `public.source` for the imported model (no defaults)."""
  num_classes = imported.num_classes or args.num_classes
  if num_classes is None:
    raise ValueError('The checkpoint has no classifier head: pass '
                     '--num_classes (a zero-initialised head of that width '
                     'is written; train it with a probe or fine-tune).')
  if (imported.num_classes and args.num_classes and
      args.num_classes != imported.num_classes):
    raise ValueError(f'--num_classes={args.num_classes} but the checkpoint\'s '
                     f'head has {imported.num_classes} classes.')
  gelu = 'tanh' if imported.gelu_approximate else 'exact'
  out = {'variant': args.variant,
         'image_size': imported.grid[0] * imported.dims.patch,
         'num_classes': num_classes, 'loss': args.loss,
         'pooling': imported.pooling, 'gelu': gelu}
  if imported.cls_token != (imported.pooling == 'cls'):
    out['cls_token'] = imported.cls_token
  if args.scan:
    out['scan'] = True
  for name in ('width', 'depth', 'mlp_dim', 'num_heads'):
    if getattr(args, name):
      out[name] = getattr(args, name)
  return out


def default_size() -> str:
  """'smoke' without an accelerator, else 'b16'."""
  return 'smoke' if jax.devices()[0].platform == 'cpu' else 'b16'


def next_commands(size: str, source_args: dict[str, Any], job_log_dir: str
                  ) -> dict[str, str]:
  """The commands that use the imported checkpoint (CPU-sized at 'smoke':
  `CPU_RUN` steps and batch, fine-tuning at the source's resolution)."""
  exp = runs.recipe_call(public.vit, size=size, **source_args)
  src = public.source(**source_args)
  small = {}
  ft_size = None
  if size == 'smoke':
    small = {'steps': CPU_RUN[0], 'batch_size': CPU_RUN[1]}
  else:
    ft_size = source_args['image_size'] * 3 // 2
    ft_size -= ft_size % src['patch']
  data = {'data': 'image_folder', 'data_dir': '/data/my_images',
          'num_classes': 10}
  probe = runs.recipe_call(
      'fiddle_configs.finetune.linear_probe', size=size, **data, **small,
      pretrain_dir=job_log_dir, source=src)
  ft_args = {'image_size': ft_size} if ft_size else {}
  finetune = runs.recipe_call(
      'fiddle_configs.finetune.finetune', size=size, **data, **ft_args,
      **small, pretrain_dir=job_log_dir, source=src)
  return {
      'predict': (f'{PYTHON} -m vit22b_pax.tools.predict --exp="{exp}" '
                  f'--job_log_dir={job_log_dir} [--labels labels.txt] '
                  'IMAGE...'),
      'export': (f'{PYTHON} -m vit22b_pax.tools.export --exp="{exp}" '
                 f'--job_log_dir={job_log_dir} --out {job_log_dir}/saved_model'),
      'linear_probe': (f'{PYTHON} -m vit22b_pax.main --job_log_dir=runs/probe '
                       f'"--fdl=config:{probe}"'),
      'finetune': (f'{PYTHON} -m vit22b_pax.main --job_log_dir=runs/finetune '
                   f'"--fdl=config:{finetune}"'),
      'experiment': exp,
      'source': repr(src),
  }


def main(argv=None) -> int:
  console.quiet_harmless()  # orbax's legacy-API notices.
  args = parse_args(argv)
  if args.size is None:
    args.size = default_size()
  try:
    imported = read(args)
    source_args = recipe_args(args, imported)
    exp_cfg = public.vit(args.size, **source_args)
    commands = next_commands(args.size, source_args, args.job_log_dir)
    provenance = {'format': args.format, 'src': args.src,
                  'variant': args.variant,
                  'dims': dataclasses.asdict(imported.dims),
                  'notes': imported.notes, 'recipe_args': source_args,
                  'size': args.size, 'commands': commands}
    ckpt = writer.write(imported, exp_cfg, args.job_log_dir, provenance)
  except ValueError as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  print(f'Imported {args.format} {args.src} as ViT-{args.variant} '
        f'({imported.dims.describe()}), pooling {imported.pooling}, '
        f'{"class token, " if imported.cls_token else ""}'
        f'{"tanh" if imported.gelu_approximate else "exact"} GELU, '
        f'{source_args["image_size"]} px, {source_args["num_classes"]} '
        f'classes ({args.loss}).')
  for note in imported.notes:
    print(f'  - {note}')
  if imported.num_classes is None:
    print(f'  - the checkpoint has no head: a zero-initialised '
          f'{source_args["num_classes"]}-way head was written.')
  print(f'Checkpoint: {ckpt.path} (step {ckpt.step})')
  print('\nThe experiment (for --exp of predict, export, run_stimuli, '
        f'ood_eval):\n  {commands["experiment"]}')
  print(f'\nIts source= for finetune / linear_probe / distill / lit:\n  '
        f'{commands["source"]}')
  for key in ('predict', 'export', 'linear_probe', 'finetune'):
    print(f'\n{key}:\n  {commands[key]}')
  print('\n(linear_probe / finetune: put your data_dir and num_classes in '
        'place of /data/my_images and 10.)')
  if args.size == 'smoke':
    print(f'(Sized for this CPU: {CPU_RUN[0]} steps of batch {CPU_RUN[1]}; '
          'with an accelerator, import with --size b16 or drop steps= and '
          'batch_size=.)')
  return 0


if __name__ == '__main__':
  sys.exit(main())
