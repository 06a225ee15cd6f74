# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Train-step benchmark: ViT-22B parallel block vs sequential vs stock praxis.

One process, same width, depth, batch and head for every model:
  (a) `parallel`:   our ViT-22B encoder, parallel block (shared norm, fused
                    in/out matmuls as H2's `ViT22BEncoder` does them),
  (b) `sequential`: the same encoder with `parallel=False`,
  (c) `praxis`:     praxis' stock `vits.VisionTransformer`
                    (`StackedTransformer`, pre-LN, GELU, GAP exit).

A train step is forward + backward + SGD update of all parameters, jitted,
with a linear softmax head on the pooled encoder output (GAP for all three),
so the models differ only in the encoder. All models are compiled and warmed
up first, then timed round-robin (one step of each in turn, `--steps`
rounds, >= 7 for reported numbers) so that load from other processes hits
them alike.

Statistics (a shared host's speed drifts by 2x within minutes, so single
medians mislead):
  * speed-ups are the median over rounds of the per-round paired ratio
    t_b[i] / t_a[i] (both steps ran back to back), with min and max;
  * MFU is at each model's best step, against a matmul peak measured the
    same way (best of `--steps` timed runs per size) right before and
    right after the models' rounds (the larger of the two);
  * the JSON carries every step time and both peak measurements.

Quiet check (`quiet_check`): the 1-minute load average is recorded before
and after the timed rounds, next to the two peaks. If the load exceeded the
host's cores, or the peaks differ by more than 15% of the larger, the run
prints a warning and its JSON says `"quiet": false`: such numbers measure
the other processes as much as the models and do not go into the README or
docs/performance.md. Fewer than 7 rounds (a functional run) are allowed but
flagged the same way (`"enough_rounds": false`).
FLOPs are `vit22b_pax.perf.flops.encoder_flops` of each model's encoder
config (for stock praxis: the equivalent sequential config with LayerNorm
biases and all biases, checked against its actual parameter count).

Usage:
  python -m vit22b_pax.tools.bench --variant B/16 --image_size 224 \
      --batch 4 --steps 7 --dtype float32 --json /tmp/bench.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from praxis import base_layer
from praxis import pax_fiddle
from praxis.layers import activations
from praxis.layers import checkpoint_policy
from praxis.layers import vits

from vit22b_pax.layers import variants as variants_lib
from vit22b_pax.perf import flops as flops_lib
from vit22b_pax.perf import peaks

MODELS = ('parallel', 'sequential', 'praxis')
REMATS = ('none',) + tuple(t.value for t in
                            checkpoint_policy.AutodiffCheckpointType)


def stock_praxis_config(variant: str, image_size: int, remat: str,
                        dtype: Any) -> pax_fiddle.Config:
  """praxis' stock ViT at the variant's size, GELU MLP and GAP exit."""
  var, patch = variants_lib.decode_variant(variant)
  grid = image_size // patch
  p = vits.build_vision_transformer_hparams_for_test(
      pos_emb_shapes=(grid, grid), patch_size=patch, image_channels=3,
      model_dims=var.model_dims, mlp_dims=var.hidden_dims,
      num_xformer_layers=var.num_layers, num_heads=var.num_heads)
  # Left unset by the builder (ENVIRONMENT.md pitfall); pool over tokens.
  p.exit_layers_tpl.pooling_tpl.pooling_dims = [1]
  p.exit_layers_tpl.output_fc_tanh = False
  tfm = p.transformer_layers_tpl.transformer_layer_params_tpl
  tfm.tr_fflayer_tpl.activation_tpl = pax_fiddle.Config(activations.GELU)
  if remat != 'none':
    p.transformer_layers_tpl.remat = True
    p.transformer_layers_tpl.checkpoint_policy = (
        checkpoint_policy.AutodiffCheckpointType(remat))
  p.fprop_dtype = dtype
  return p


def ours_config(variant: str, image_size: int, parallel: bool, remat: str,
                dtype: Any, **overrides) -> pax_fiddle.Config:
  """Our ViT-22B encoder (H2's `encoder_config`), parallel or sequential.

  GAP exit and an unrolled stack (scan=False) by default, like the stock
  praxis model; `overrides` (e.g. fused=False, scan=True) win.
  """
  kwargs = dict(parallel=parallel, pooling='gap', scan=False)
  if remat != 'none':
    kwargs['remat_policy'] = remat
  kwargs.update(overrides)
  p = variants_lib.encoder_config(variant, image_size, **kwargs)
  p.fprop_dtype = dtype
  return p


def make_train_step(p: pax_fiddle.Config, image_size: int, batch: int,
                    num_classes: int, dtype: Any, seed: int = 0):
  """Returns (jitted step, initial state, inputs) for the encoder config."""
  layer = base_layer.instantiate(p)
  images = jax.random.normal(jax.random.PRNGKey(seed + 1),
                             (batch, image_size, image_size, 3), dtype)
  labels = jax.random.randint(jax.random.PRNGKey(seed + 2), (batch,), 0,
                              num_classes)
  with base_layer.JaxContext.new_context():
    enc_vars = layer.init(jax.random.PRNGKey(seed), images)
    feats = jax.eval_shape(layer.apply, enc_vars, images)
  dims = feats.shape[-1]
  head = {'w': jax.random.normal(jax.random.PRNGKey(seed + 3),
                                 (dims, num_classes), dtype) / np.sqrt(dims),
          'b': jnp.zeros((num_classes,), dtype)}
  params = {'enc': enc_vars[base_layer.PARAMS], 'head': head}
  others = {k: v for k, v in enc_vars.items() if k != base_layer.PARAMS}

  def loss_fn(params, images, labels):
    with base_layer.JaxContext.new_context():
      x = layer.apply({base_layer.PARAMS: params['enc'], **others}, images)
    if x.ndim == 3:
      x = jnp.mean(x, axis=1)
    logits = x @ params['head']['w'] + params['head']['b']
    logp = jax.nn.log_softmax(logits.astype(jnp.float32))
    return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=1))

  def train_step(params, images, labels):
    loss, grads = jax.value_and_grad(loss_fn)(params, images, labels)
    new = jax.tree_util.tree_map(lambda w, g: w - 1e-3 * g.astype(w.dtype),
                                 params, grads)
    return new, loss

  num_params = sum(int(np.prod(x.shape))
                   for x in jax.tree_util.tree_leaves(params))
  return (jax.jit(train_step, donate_argnums=(0,)), params, images, labels,
          num_params)


def flops_config(model: str, args) -> pax_fiddle.Config:
  """The encoder config whose `encoder_flops` counts this model."""
  if model == 'praxis':
    # praxis' stock block: pre-LN with LayerNorm biases, biases on every
    # projection, no QK-norm; GAP exit.
    return variants_lib.encoder_config(
        args.variant, args.image_size, parallel=False, qk_norm=False,
        norm_type='layernorm', norm_bias=True,
        use_bias=('qkv', 'mlp', 'out'), pooling='gap')
  return ours_config(args.variant, args.image_size, model == 'parallel',
                     args.remat, jnp.float32, **_overrides(args))


def _overrides(args) -> dict[str, Any]:
  overrides = dict(kv.split('=', 1) for kv in args.override)
  return {k: json.loads(v) for k, v in overrides.items()}


def build_model(model: str, args) -> dict[str, Any]:
  """Builds, compiles and warms up one model's train step."""
  dtype = jnp.dtype(args.dtype)
  if model == 'praxis':
    p = stock_praxis_config(args.variant, args.image_size, args.remat, dtype)
  else:
    p = ours_config(args.variant, args.image_size, model == 'parallel',
                    args.remat, dtype, **_overrides(args))
  step, params, images, labels, n = make_train_step(
      p, args.image_size, args.batch, args.num_classes, dtype)
  t0 = time.perf_counter()
  params, loss = step(params, images, labels)
  loss.block_until_ready()
  compile_s = time.perf_counter() - t0
  for _ in range(args.warmup - 1):
    params, loss = step(params, images, labels)
  loss.block_until_ready()
  return dict(model=model, step=step, state=[params, images, labels],
              num_params=n, compile_s=compile_s, times=[])


def time_one(entry: dict[str, Any]) -> None:
  """Times one train step of a built model (appends to entry['times'])."""
  params, images, labels = entry['state']
  t0 = time.perf_counter()
  params, loss = entry['step'](params, images, labels)
  loss.block_until_ready()
  entry['times'].append(time.perf_counter() - t0)
  if not np.isfinite(float(loss)):
    raise FloatingPointError(f'{entry["model"]}: non-finite loss {loss}')
  entry['state'][0] = params


def summarize(entry: dict[str, Any], args, peak: float) -> dict[str, Any]:
  """Result row of one model (MFU at its best step)."""
  times = entry['times']
  count = flops_lib.encoder_flops(flops_config(entry['model'], args),
                                  args.image_size, args.num_classes)
  best = min(times)
  flops_s = count.per_image * args.batch / best
  return dict(model=entry['model'], num_params=entry['num_params'],
              counted_params=count.num_params,
              step_median_s=statistics.median(times), step_best_s=best,
              step_max_s=max(times), times_s=times,
              compile_s=entry['compile_s'],
              images_per_s_best=args.batch / best,
              gflops_per_s_best=flops_s / 1e9, mfu_best=flops_s / peak,
              flops_per_image=count.per_image)


# Largest relative difference of the before/after matmul peaks (of the
# larger one) for a quiet machine; MIN_ROUNDS: rounds for paired statistics.
PEAK_TOLERANCE = 0.15
MIN_ROUNDS = 7


def quiet_check(loads: Sequence[float], cpus: int,
                peaks_flops: Sequence[float] = (),
                tolerance: float = PEAK_TOLERANCE) -> tuple[bool, list[str]]:
  """Whether a run's timings come from a quiet machine, and why not.

  Args:
    loads: 1-minute load averages: the first sampled before the timed
      rounds (only other processes load the machine then), the others
      after them (the benchmark's own compute threads add up to `cpus`).
    cpus: the host's cores (`os.cpu_count()`).
    peaks_flops: the matmul peaks measured before and after the rounds
      (FLOP/s); empty where the peak is a table value (accelerators).
    tolerance: largest allowed (max - min) / max of the peaks.

  Returns:
    (quiet, warnings): quiet is False if the load before the rounds
    exceeds `cpus`, a load after them exceeds 2 x `cpus` (the benchmark's
    own threads on every core plus as much again from others), or the peaks
    differ by more than `tolerance` of the larger (the most direct sign of
    contention during the run); one warning line per reason.

  Raises:
    ValueError: no load, cpus < 1, a negative load, or a peak <= 0.
  """
  if not loads:
    raise ValueError('quiet_check needs at least one load average.')
  if cpus < 1:
    raise ValueError(f'cpus must be >= 1, got {cpus}.')
  if min(loads) < 0:
    raise ValueError(f'Load averages must be >= 0, got {list(loads)}.')
  if peaks_flops and min(peaks_flops) <= 0:
    raise ValueError(f'Peaks must be > 0, got {list(peaks_flops)}.')
  warnings = []
  before, after = loads[0], list(loads[1:])
  if before > cpus:
    warnings.append(f'load average {before:.2f} before the rounds exceeds '
                    f'the {cpus} cores: other processes were running')
  if after and max(after) > 2 * cpus:
    warnings.append(f'load average {max(after):.2f} after the rounds '
                    f'exceeds 2 x {cpus} cores (this benchmark accounts for '
                    f'at most {cpus}): other processes ran during the timing')
  if peaks_flops:
    hi, lo = max(peaks_flops), min(peaks_flops)
    if (hi - lo) / hi > tolerance:
      warnings.append(
          f'matmul peaks {", ".join(f"{p / 1e9:.1f}" for p in peaks_flops)} '
          f'GFLOP/s differ by {100 * (hi - lo) / hi:.0f}% '
          f'(> {100 * tolerance:.0f}%): the machine\'s speed changed')
  return not warnings, warnings


def paired_ratios(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
  """Speed-up of a over b per round: t_b[i] / t_a[i]; median, min, max."""
  ratios = [tb / ta for ta, tb in zip(a['times'], b['times'])]
  return dict(median=statistics.median(ratios), min=min(ratios),
              max=max(ratios), per_round=ratios)


def main(argv=None) -> int:
  ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  ap.add_argument('--variant', default='B/16')
  ap.add_argument('--image_size', type=int, default=224)
  ap.add_argument('--batch', type=int, default=4)
  ap.add_argument('--num_classes', type=int, default=1000)
  ap.add_argument('--steps', type=int, default=7)
  ap.add_argument('--warmup', type=int, default=2)
  ap.add_argument('--dtype', default='float32')
  ap.add_argument('--remat', default='none', choices=REMATS)
  ap.add_argument('--models', default=','.join(MODELS),
                  help=f'comma list of {MODELS}')
  ap.add_argument('--override', action='append', default=[],
                  help='KEY=JSON override for our encoder_config, e.g. '
                  'fused=false (repeatable)')
  ap.add_argument('--peak', type=float, default=None,
                  help='peak FLOP/s per chip (default: the bf16 table for '
                  'accelerators, measured before/after on CPU)')
  ap.add_argument('--peak_sizes', default='2048,3072,4096',
                  help='matmul sizes of the measured peak')
  ap.add_argument('--json', default=None, help='write results here')
  args = ap.parse_args(argv)
  models = [m for m in args.models.split(',') if m]
  for m in models:
    if m not in MODELS:
      raise ValueError(f'--models entry {m!r} not in {MODELS}.')
  if args.steps < 1 or args.warmup < 1:
    raise ValueError(f'--steps and --warmup must be >= 1, got {args.steps}, '
                     f'{args.warmup}.')
  sizes = tuple(int(n) for n in args.peak_sizes.split(',') if n)
  table_peak = None
  if args.peak is not None or jax.devices()[0].platform != 'cpu':
    table_peak, peak_src = peaks.peak_flops_per_chip(args.peak)
  else:
    peak_src = (f'measured {args.dtype} matmul, best of {args.steps} per '
                f'size {sizes}, before and after the models')
  print(f'# {jax.devices()[0].device_kind} x1, {os.cpu_count()} cpus, '
        f'load average {os.getloadavg()[0]:.2f}; {args.variant} '
        f'{args.image_size}px batch {args.batch} {args.dtype} '
        f'remat={args.remat} steps={args.steps}', flush=True)
  built = [build_model(m, args) for m in models]
  loads = {'before': os.getloadavg()[0]}
  peak_times = {}
  if table_peak is None:
    peak_times['before'] = peaks.matmul_times(sizes, args.steps, args.dtype)
  # Round-robin: step i of every model runs back to back, so load from other
  # processes hits all models alike; ratios are taken per round.
  for _ in range(args.steps):
    for entry in built:
      time_one(entry)
  loads['after'] = os.getloadavg()[0]
  rates = {}
  if table_peak is None:
    peak_times['after'] = peaks.matmul_times(sizes, args.steps, args.dtype)
    rates = {k: peaks.best_rate(v) for k, v in peak_times.items()}
    peak = max(rates.values())
    print(f'# matmul peak before {rates["before"] / 1e9:.1f}, after '
          f'{rates["after"] / 1e9:.1f} GFLOP/s; using {peak / 1e9:.1f}',
          flush=True)
  else:
    peak = table_peak
    print(f'# peak {peak / 1e12:.1f} TFLOP/s ({peak_src})', flush=True)
  rows = []
  for entry in built:
    row = summarize(entry, args, peak)
    rows.append(row)
    print(f'{row["model"]:>11}: best {row["step_best_s"]:.3f} s median '
          f'{row["step_median_s"]:.3f} max {row["step_max_s"]:.3f}; best '
          f'{row["gflops_per_s_best"]:.1f} GFLOP/s MFU '
          f'{100 * row["mfu_best"]:.1f}%; params '
          f'{row["num_params"] / 1e6:.2f}M (counted '
          f'{row["counted_params"] / 1e6:.2f}M); compile '
          f'{row["compile_s"]:.1f} s', flush=True)
  quiet, warnings = quiet_check(list(loads.values()), os.cpu_count() or 1,
                                list(rates.values()))
  enough_rounds = args.steps >= MIN_ROUNDS
  if not enough_rounds:
    warnings.append(f'{args.steps} rounds < {MIN_ROUNDS}: a functional run, '
                    'too few for paired statistics')
  print(f'# load average before {loads["before"]:.2f}, after '
        f'{loads["after"]:.2f} ({os.cpu_count()} cpus)', flush=True)
  for w in warnings:
    print(f'# WARNING: {w}; not for reporting', flush=True)
  by = {e['model']: e for e in built}
  ratios = {}
  for a, b in (('parallel', 'sequential'), ('sequential', 'praxis'),
               ('parallel', 'praxis')):
    if a in by and b in by:
      r = ratios[f'{a}/{b}'] = paired_ratios(by[a], by[b])
      print(f'speed-up {a} over {b}: paired median {r["median"]:.3f}x '
            f'(rounds {r["min"]:.3f}-{r["max"]:.3f})')
  if args.json:
    with open(args.json, 'w') as f:
      json.dump(dict(config=vars(args), device=jax.devices()[0].device_kind,
                     host_cpus=os.cpu_count(), peak_flops=peak,
                     peak_source=peak_src,
                     peak_times_s={k: {str(n): t for n, t in v.items()}
                                   for k, v in peak_times.items()},
                     load_average_1min=loads, quiet=quiet,
                     enough_rounds=enough_rounds, warnings=warnings,
                     results=rows, speedups=ratios), f, indent=1)
  return 0


if __name__ == '__main__':
  sys.exit(main())
