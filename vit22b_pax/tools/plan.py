# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Prints the scale plan (memory, communication, step time) of a setup.

The paper's setup (ViT-22B/14, 224 px, batch 65536, TPU v4; the mesh is our
choice, the paper does not state it):
  python -m vit22b_pax.tools.plan --variant 22B/14 --mesh data=256,mdl=4 \
      --chip tpu-v4 --batch 65536 --remat nothing_saveable --json plan.json
"""

from __future__ import annotations

import argparse
import json
import sys

from vit22b_pax.perf import peaks
from vit22b_pax.runtime import plan as plan_lib


def main(argv=None) -> int:
  ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  ap.add_argument('--variant', default='22B/14')
  ap.add_argument('--image_size', type=int, default=224)
  ap.add_argument('--mesh', default='data=256,mdl=4')
  ap.add_argument('--chip', default='tpu-v4', choices=tuple(peaks.CHIPS))
  ap.add_argument('--batch', type=int, default=65536)
  ap.add_argument('--remat', default='nothing_saveable',
                  choices=plan_lib.REMAT_POLICIES)
  ap.add_argument('--num_classes', type=int, default=1000)
  ap.add_argument('--param_dtype', default='float32')
  ap.add_argument('--act_dtype', default='bfloat16')
  ap.add_argument('--json', default=None, help='write the plan here')
  args = ap.parse_args(argv)
  plan = plan_lib.make_plan(
      args.variant, args.image_size, args.batch,
      plan_lib.parse_mesh(args.mesh), args.chip, args.remat,
      num_classes=args.num_classes, param_dtype=args.param_dtype,
      act_dtype=args.act_dtype)
  print(plan_lib.format_plan(plan))
  if args.json:
    with open(args.json, 'w') as f:
      json.dump(dict(variant=plan.variant, image_size=plan.image_size,
                     batch=plan.batch, mesh=plan.mesh, chip=plan.chip,
                     remat=plan.remat, **plan.results), f, indent=1)
  return 0


if __name__ == '__main__':
  sys.exit(main())
