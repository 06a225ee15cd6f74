# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""OOD top-1 accuracy of a trained 1000-way Pax experiment.

  python -m vit22b_pax.tools.ood_eval --exp=MODULE.CLASS --job_log_dir=DIR \
      --benchmark imagenet_r --image_dir /data/imagenet-r
  python -m vit22b_pax.tools.ood_eval ... --benchmark v2 \
      --tfds_name imagenet_v2 --tfds_split test --tfds_data_dir ~/tfds
  python -m vit22b_pax.tools.ood_eval ... --benchmark objectnet \
      --image_dir objectnet-1.0/images \
      --objectnet_mapping objectnet-1.0/mappings
  python -m vit22b_pax.tools.ood_eval ... --benchmark real \
      --tfds_name imagenet2012 --tfds_split validation --tfds_data_dir ~/tfds

Benchmarks: imagenet_a, imagenet_r (200-class subsets), objectnet (its
ImageNet-overlapping classes; mapping from the user's ObjectNet download),
real (ReaL multi-label), v2 (1000 classes). See vit22b_pax/eval/ood.py.
"""

import argparse
import json
import sys

from vit22b_pax.eval import ood
from vit22b_pax.runtime import restore


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  p.add_argument('--exp', required=True)
  p.add_argument('--job_log_dir', required=True)
  p.add_argument('--step', type=int, default=None)
  p.add_argument('--benchmark', required=True, choices=ood.BENCHMARKS)
  src = p.add_mutually_exclusive_group(required=True)
  src.add_argument('--image_dir', help='root/<class>/<image>')
  src.add_argument('--tfds_name', help='prepared TFDS data set (no download)')
  p.add_argument('--tfds_split', default='test')
  p.add_argument('--tfds_data_dir', default=None)
  p.add_argument('--objectnet_mapping', default=None,
                 help="ObjectNet 'mappings/' folder or JSON {folder: [idx]}")
  p.add_argument('--real_labels', default=None,
                 help='ReaL labels JSON (default: the shipped copy)')
  p.add_argument('--image_size', type=int, default=None)
  p.add_argument('--batch_size', type=int, default=32)
  p.add_argument('--max_examples', type=int, default=None)
  p.add_argument('--json', help='write the result to this JSON file')
  args = p.parse_args(argv)
  try:
    mapping = None
    if args.benchmark == 'objectnet':
      if not args.objectnet_mapping:
        raise ValueError('--benchmark objectnet needs --objectnet_mapping '
                         '(no package ships the ObjectNet->ImageNet map)')
      mapping = ood.load_objectnet_mapping(args.objectnet_mapping)
    bench = ood.Benchmark(args.benchmark, mapping)
    predict_fn, info = restore.restore_predict_fn(
        args.exp, args.job_log_dir, step=args.step,
        image_size=args.image_size)
    restore.report(info['restored'], 'ood_eval')
    if info['num_classes'] != 1000:
      raise ValueError(f'the model has {info["num_classes"]} classes; OOD '
                       'benchmarks need a 1000-way ImageNet head')
    if args.image_dir:
      examples = ood.image_folder_examples(args.image_dir, args.benchmark,
                                           args.real_labels)
      if args.max_examples:
        examples = examples[:args.max_examples]
    else:
      examples = ood.tfds_examples(args.tfds_name, args.tfds_split,
                                   args.tfds_data_dir, args.benchmark,
                                   args.max_examples, args.real_labels)
    result = ood.evaluate(predict_fn, examples, bench, info['image_size'],
                          args.batch_size)
  except ValueError as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  result['step'] = info['step']
  print(f'{result["benchmark"]}: top-1 {result["accuracy"]:.4f} on '
        f'{result["n"]} images ({result["n_skipped"]} skipped), step '
        f'{info["step"]}')
  if args.json:
    with open(args.json, 'w') as f:
      json.dump(result, f, indent=1)
  return 0


if __name__ == '__main__':
  sys.exit(main())
