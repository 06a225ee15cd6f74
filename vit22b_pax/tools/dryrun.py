# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Ahead-of-time dry run: compile an experiment's real train step on a mesh.

As MaxText's `train_compile.py`: builds the train step of a registered
experiment (or recipe call) through the code `paxml.main` runs -- paxml's
partitioner (`create_experiment_or_default_partitioner`, its train-state
metadata and `partition`), the experiment's train program, task, learner
and input specs -- with abstract parameters and inputs (nothing is read,
nothing materialised), lowers and compiles it for N fake CPU devices, and
reports what XLA made of it next to `runtime/plan.make_plan` for the same
mesh: per-device memory, FLOPs, the collectives by kind and mesh axis per
block and per step, and every large tensor replicated against the plan.

  python -m vit22b_pax.tools.dryrun --exp=pretrain.ViT22BPaper \
      --mesh 1,8,16 --batch 8192 --json out.json

--exp takes a registered name (relative to vit22b_pax.experiments or full) or a recipe call,
--fdl=set:PATH=VALUE overrides as `paxml.main` applies them, --mesh the ICI
mesh (replica,data,mdl; default the experiment's) and --devices the fake
device count (default the mesh's size). The compiler is XLA:CPU's: its
SPMD partitioner is the one TPUs and GPUs use, but its later passes differ
(see `docs/scale.md`: no reduce-scatter, bf16 all-reduces promoted to f32,
no asynchronous collectives), and the report says where that matters.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from typing import Any, Sequence

GIB = 2.0**30


class DryRunError(ValueError):
  """Bad input, reported as one line."""


def parse_mesh(text: str) -> tuple[int, int, int]:
  """'1,64,16' -> (1, 64, 16) (replica, data, mdl)."""
  parts = [p.strip() for p in str(text).split(',')]
  if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
    raise DryRunError(f'--mesh {text!r}: expected three positive sizes '
                      'replica,data,mdl, e.g. 1,64,16.')
  return tuple(int(p) for p in parts)


def set_devices(n: int) -> None:
  """Asks XLA for n fake CPU devices (before jax starts its backend)."""
  flags = re.sub(r'--xla_force_host_platform_device_count=\d+', '',
                 os.environ.get('XLA_FLAGS', ''))
  os.environ['XLA_FLAGS'] = (
      f'{flags} --xla_force_host_platform_device_count={n}').strip()
  os.environ.setdefault('JAX_PLATFORMS', 'cpu')


def _configs_with(cfg: Any, field: str):
  """Every fiddle Buildable under `cfg` that has `field` set (not None)."""
  import fiddle as fdl  # pylint: disable=g-import-not-at-top
  seen, stack = set(), [cfg]
  while stack:
    node = stack.pop()
    if id(node) in seen:
      continue
    seen.add(id(node))
    if isinstance(node, fdl.Buildable):
      if getattr(node, field, None) is not None:
        yield node
      stack.extend(fdl.ordered_arguments(node).values())
    elif isinstance(node, (list, tuple)):
      stack.extend(node)
    elif isinstance(node, dict):
      stack.extend(node.values())


def resolve(name: str, overrides: Sequence[str] = (),
            mesh: Sequence[int] | None = None, batch: int | None = None):
  """The experiment, with --mesh and --batch applied to its configs.

  --mesh sets every `ici_mesh_shape` in the task; --batch every
  `batch_size` of the train inputs and the input specs (the recipe's
  batch_size= argument does the same).
  """
  from vit22b_pax.runtime import experiment  # pylint: disable=g-import-not-at-top
  if '(' not in name and not name.startswith('vit22b_pax.'):
    # 'pretrain.ViT22BPaper' names vit22b_pax.experiments.pretrain's class.
    name = f'vit22b_pax.experiments.{name}'
  try:
    exp = experiment.resolve(name, overrides)
  except (ValueError, TypeError, AttributeError, ImportError) as e:
    raise DryRunError(f'--exp={name}: {e}') from e
  task_p = exp.task()
  if task_p.model.ici_mesh_shape is None:
    raise DryRunError(f'--exp={name} has no ICI mesh (task.model.'
                      'ici_mesh_shape): paxml would run it with pmap; the '
                      'dry run compiles SPMD (pjit) experiments.')
  if mesh is not None:
    for node in _configs_with(task_p, 'ici_mesh_shape'):
      node.ici_mesh_shape = list(mesh)
  if batch is not None:
    for cfg in list(exp.train_datasets()) + [
        exp.get_input_specs_provider_params()]:
      if getattr(cfg, 'batch_size', None) is None:
        raise DryRunError(f'--batch: {cfg.cls.__name__} has no batch_size.')
      cfg.batch_size = batch
  return exp


class Step:
  """The lowered train step and what was needed to build it.

  Attributes:
    exp: the experiment. task_p: its task config. mesh: the jax Mesh.
    specs: global input shapes. metadata: paxml's TrainStateMetadata.
    lowered: the lowered step. state: abstract train state (with shardings).
  """

  def __init__(self, **kw):
    self.__dict__.update(kw)


def build(exp) -> Step:
  """Lowers the experiment's train step as paxml's train program does."""
  import jax  # pylint: disable=g-import-not-at-top
  from jax import numpy as jnp  # pylint: disable=g-import-not-at-top
  from paxml import checkpoint_types  # pylint: disable=g-import-not-at-top
  from paxml import partitioning  # pylint: disable=g-import-not-at-top
  from paxml import trainer_lib  # pylint: disable=g-import-not-at-top
  from praxis import base_hyperparams  # pylint: disable=g-import-not-at-top
  from praxis import base_input  # pylint: disable=g-import-not-at-top

  task_p = exp.task()
  mesh_shape = list(task_p.model.ici_mesh_shape)
  n, need = len(jax.devices()), math.prod(mesh_shape)
  if need != n:
    raise DryRunError(f'mesh {mesh_shape} needs {need} devices but {n} are '
                      'available (--devices).')
  specs_p = exp.get_input_specs_provider_params()
  if issubclass(specs_p.cls, base_input.DatasetInputSpecsProvider):
    raise DryRunError(
        f'{specs_p.cls.__name__} reads a batch of the training data for its '
        'shapes; the dry run needs an input_specs_provider that does not.')
  # As paxml.train.train_and_evaluate.
  task_p.model.fprop_dtype = jnp.dtype(task_p.model.fprop_dtype)
  jax_task = base_hyperparams.instantiate(task_p)
  partitioner = partitioning.create_experiment_or_default_partitioner(
      experiment_config=exp, jax_task=jax_task,
      running_mode=trainer_lib.RunningMode.TRAIN,
      checkpoint_type=checkpoint_types.CheckpointType.GDA,
      input_p=exp.train_datasets()[0], enable_auto_sharding=False)
  specs = trainer_lib.get_train_input_specs_for_model_init(
      jax_task, base_hyperparams.instantiate(specs_p))
  batch = jax.tree_util.tree_leaves(specs)[0].shape[0]
  dp = mesh_shape[0] * mesh_shape[1]
  if batch % dp:
    raise DryRunError(f'global batch {batch} is not divisible by the data '
                      f'axes replica x data = {dp} (mesh {mesh_shape}).')
  partitioner.setup(jax_task, jax.random.PRNGKey(0), specs, None, None)
  metadata = partitioner.get_train_state_metadata()
  # The experiment's own train program partitions the step (paxml's
  # SingleTaskTrainProgram._get_train_step: train_step_single_learner).
  program = exp.train_programs()[0]
  program._partitioner = partitioner  # pylint: disable=protected-access
  step_fn, in_pspec = program._get_train_step(specs)  # pylint: disable=protected-access
  mesh = partitioner.global_mesh
  ns = lambda p: jax.sharding.NamedSharding(mesh, p)
  state = jax.tree_util.tree_map(
      lambda s, p: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=ns(p)),
      metadata.padded_global_shapes, metadata.partition_specs)
  inputs = jax.tree_util.tree_map(
      lambda s, p: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=ns(p)),
      specs, in_pspec)
  key = jax.ShapeDtypeStruct((2,), jnp.uint32,
                             sharding=ns(jax.sharding.PartitionSpec()))
  static = trainer_lib.BaseStepFnStaticArgs(unpadded_global_batch_size=batch)
  lowered = step_fn.lower(state, key, inputs, static)
  return Step(exp=exp, task_p=task_p, mesh=mesh, specs=specs, batch=batch,
              metadata=metadata, lowered=lowered, state=state, inputs=inputs)


def main(argv: Sequence[str] | None = None) -> int:
  ap = argparse.ArgumentParser(
      prog='python -m vit22b_pax.tools.dryrun',
      description='Compile an experiment\'s train step for a mesh of fake '
      'CPU devices and reconcile it with the scale plan.')
  ap.add_argument('--exp', required=True,
                  help='registered experiment (e.g. pretrain.ViT22BPaper, relative '
                  'to vit22b_pax.experiments) or a recipe call')
  ap.add_argument('--fdl', action='append', default=[],
                  help='set:PATH=VALUE override (repeatable)')
  ap.add_argument('--mesh', default=None,
                  help='ICI mesh replica,data,mdl (default: the '
                  "experiment's)")
  ap.add_argument('--devices', type=int, default=None,
                  help='fake CPU devices (default: the mesh size)')
  ap.add_argument('--batch', type=int, default=None,
                  help='global batch (default: the experiment\'s)')
  ap.add_argument('--chip', default='tpu-v4',
                  help='chip of the plan side (perf/peaks.CHIPS)')
  ap.add_argument('--json', default=None, help='write the report here')
  ap.add_argument('--save_hlo', default=None,
                  help='write the optimized HLO (per-device program) here')
  args = ap.parse_args(argv)
  try:
    overrides = []
    for f in args.fdl:
      if not f.startswith('set:'):
        raise DryRunError(f'--fdl={f}: only set:PATH=VALUE is supported.')
      overrides.append(f[len('set:'):])
    mesh = parse_mesh(args.mesh) if args.mesh else None
    if args.devices is not None and args.devices < 1:
      raise DryRunError(f'--devices {args.devices}: expected >= 1.')
    if mesh and args.devices and args.devices != mesh[0] * mesh[1] * mesh[2]:
      raise DryRunError(f'--mesh {args.mesh} has {mesh[0] * mesh[1] * mesh[2]}'
                        f' devices but --devices is {args.devices}.')
    if args.batch is not None and args.batch < 1:
      raise DryRunError(f'--batch {args.batch}: expected >= 1.')
    from vit22b_pax.perf import peaks  # pylint: disable=g-import-not-at-top
    peaks.get_chip(args.chip)
    want = args.devices or (mesh and mesh[0] * mesh[1] * mesh[2])
    started = _backend_started()
    if want and not started:
      set_devices(want)
    # Building a recipe starts jax's backend (with 1 device unless set).
    exp = resolve(args.exp, overrides, mesh, args.batch)
    shape = list(exp.task().model.ici_mesh_shape)
    n = shape[0] * shape[1] * shape[2]
    if args.devices and n != args.devices:
      raise DryRunError(f'the experiment\'s mesh {shape} has {n} devices '
                        f'but --devices is {args.devices}; pass --mesh.')
    if not want and not started and n > 1:
      # The mesh was only known after the backend started: run again with
      # its device count.
      argv = list(sys.argv[1:] if argv is None else argv)
      os.environ['VIT22B_DRYRUN_ADDED_DEVICES'] = '1'
      os.execv(sys.executable, [sys.executable, '-m', __spec__.name, *argv,
                                f'--devices={n}'])
    from vit22b_pax.tools import dryrun_report  # pylint: disable=g-import-not-at-top
    t0 = time.time()
    step = build(exp)
    step.name = args.exp
    t1 = time.time()
    report = dryrun_report.analyse(step, chip=args.chip,
                                   save_hlo=args.save_hlo)
    report['timing_s'] = dict(build_and_lower=round(t1 - t0, 1),
                              compile_and_analyse=round(time.time() - t1, 1))
    shown = list(sys.argv[1:] if argv is None else argv)
    if os.environ.pop('VIT22B_DRYRUN_ADDED_DEVICES', None):
      shown = shown[:-1]  # the --devices the re-run below added
    report['command'] = ' '.join(['python -m vit22b_pax.tools.dryrun'] +
                                 shown)
  except (DryRunError, ValueError) as e:
    print(f'dryrun: error: {e}', file=sys.stderr)
    return 2
  print(dryrun_report.format_report(report))
  if args.json:
    with open(args.json, 'w') as f:
      json.dump(report, f, indent=1)
  return 0


def _backend_started() -> bool:
  try:
    from jax._src import xla_bridge  # pylint: disable=g-import-not-at-top
    return bool(xla_bridge._backends)  # pylint: disable=protected-access
  except (ImportError, AttributeError):
    return True


if __name__ == '__main__':
  sys.exit(main())
