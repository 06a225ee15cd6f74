# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The ViT-22B transformer block as a praxis layer.

The computation lives in `vit22b_pax.core.block` (plain JAX functions; see
its docstring for the block, the einsum letters and the fused layout). This
layer creates the parameters with praxis (`WeightHParams`, sharding from
`WeightSharding`) and calls `core.block.apply` with praxis hooks: its norm
children, the injected activation, the injected `in_einsum_tpl` /
`out_einsum_tpl` ops for the 2-D weight matmuls

  in_einsum ('md,dk->mk', x [M, D], w [D, K])   w_in, w_q/k/v, w_mlp_in
  out_einsum('mk,kd->md', h [M, K], w [K, D])   w_out, w_attn_out, w_mlp_out

`ActivationSharding` annotations, remat names and attention summaries.
Einsum ops that declare `accepts_weight_sharding` (the collective
`CollectiveEinsumOp`) also get the flattened weight's split, so they pick the
collective that matches how the weight is actually stored.

Weights per mode, with mesh axes as `vit22b_pax.layers.sharding` sets them
('data' = FSDP, 'mdl' = tensor parallel, batch = ('replica', 'data')):
  fused=True:   w_in  [D, N, E] -> [D, N*E]  (data, mdl)
                w_out [N, O, D] -> [N*O, D]  (mdl, data)
                matmuls on their q/k/v/MLP and attention/MLP segments
                ([D, N*H], [D, N*G], [N*H, D], [N*G, D], same splits; see
                `core.block.Ops.split_weights`), or on the whole weights
                with collective einsum ops
  fused=False:  w_q, w_k, w_v [D, N, H] -> [D, N*H]  (data, mdl)
                w_mlp_in [D, F]                     (data, mdl)
                w_attn_out [N, H, D] -> [N*H, D]    (mdl, data)
                w_mlp_out [F, D]                    (mdl, data)
2-D operands matter on CPU: XLA's backward of 3-D 'btd,dne->btne' einsums
materialises transposes and ran ~1.8x slower than the flattened form.

Norms have no bias by default; 'rmsnorm' (the default) also drops centering,
as the paper says ("without bias and centering", Zhang & Sennrich 2019).
`norm_bias=True` (layernorm only) adds the bias standard ViTs have to the
block norms. `unfused_to_fused` / `fused_to_unfused` map one parameter tree
to the other. Remat names (`checkpoint_name`, as praxis'
`AutodiffCheckpointType`): 'combined_qkv_proj' (fused in) or 'query_proj' /
'key_proj' / 'value_proj', 'context', 'out_proj', 'ffn1' / 'ffn2' (unfused
MLP), 'transformer_layer_out'.
"""

from __future__ import annotations

from jax import numpy as jnp
from praxis import base_layer
from praxis import pax_fiddle
from praxis import pytypes
from praxis.layers import activations
from praxis.layers import base_ops
from praxis.layers import normalizations

from vit22b_pax.core import block as core_block

JTensor = pytypes.JTensor
LayerTpl = pax_fiddle.Config[base_layer.BaseLayer]
SplitDimsMapping = pytypes.SplitDimsMapping
WeightHParams = base_layer.WeightHParams
WeightInit = base_layer.WeightInit
template_field = base_layer.template_field

NORM_TYPES = core_block.NORM_TYPES
BIAS_NAMES = core_block.BIAS_NAMES
attention_stats = core_block.attention_stats

def norm_config(norm_type: str, dim: int, name: str,
                use_bias: bool = False) -> LayerTpl:
  """A praxis norm layer config with the gain stored directly (init 1).

  Numerically the same as `vit22b_pax.core.block.norm` (a test checks it).

  Args:
    norm_type: 'layernorm' (centering, no bias unless use_bias) or 'rmsnorm'
      (no centering, no bias).
    dim: normalized (last) dimension.
    name: layer name.
    use_bias: LayerNorm bias (only 'layernorm').

  Returns:
    A `pax_fiddle.Config` of `normalizations.LayerNorm` or `RmsNorm`.
  """
  if norm_type == 'layernorm':
    return pax_fiddle.Config(
        normalizations.LayerNorm, name=name, dim=dim, use_bias=use_bias,
        direct_scale=True, reductions_in_fp32=True)
  if norm_type == 'rmsnorm':
    if use_bias:
      raise ValueError(f'norm_type {norm_type!r} has no bias; got '
                       'use_bias=True.')
    return pax_fiddle.Config(
        normalizations.RmsNorm, name=name, dim=dim, direct_scale=True,
        intermediate_dtype=jnp.float32)
  raise ValueError(f'Unknown norm_type {norm_type!r}; expected one of '
                   f'{NORM_TYPES}.')


class ViT22BBlock(base_layer.BaseLayer):
  """ViT-22B encoder block (parallel attention + MLP, QK-norm, fused matmuls).

  Attributes:
    model_dims: width D.
    num_heads: attention heads N; D must be divisible by N.
    hidden_dims: MLP hidden dims F; F must be divisible by N when fused.
    parallel: True: y = x + Attn(LN(x)) + MLP(LN(x)) (one norm, ViT-22B).
      False: the standard sequential pre-LN block with two norms.
    fused: one [D, N, 3H + G] input and one [N, H + G, D] output matmul
      (requires parallel=True); False: separate q/k/v/MLP weights.
    qk_norm: normalize queries and keys per head over H before the dot
      product (paper: True).
    use_bias: subset of ('qkv', 'mlp', 'out'), see `core.block`.
    norm_type: 'rmsnorm' (default: the paper's "without bias and centering")
      or 'layernorm' (centering).
    qk_norm_type: norm of the QK-norm; None = same as norm_type (flax's
      normalize_qk uses 'layernorm').
    norm_bias: LayerNorm bias on the block norms (standard ViTs; needs
      norm_type='layernorm'; the QK-norms never have one). Default off.
    activation_tpl: MLP activation; praxis GELU (tanh approximation, as
      big_vision and praxis; set `.approximate=False` for the exact GELU).
    in_einsum_tpl: einsum op of the input-side weight matmuls.
    out_einsum_tpl: einsum op of the output-side weight matmuls.
    attention_summaries: add per-layer summaries 'max_attention_logit' (after
      scaling, before softmax) and 'attention_entropy' (mean, nats).
  """

  model_dims: int = 0
  num_heads: int = 0
  hidden_dims: int = 0
  parallel: bool = True
  fused: bool = True
  qk_norm: bool = True
  use_bias: tuple[str, ...] = ('mlp', 'out')
  norm_type: str = 'rmsnorm'
  qk_norm_type: str | None = None
  norm_bias: bool = False
  activation_tpl: LayerTpl = template_field(activations.GELU)
  in_einsum_tpl: LayerTpl = template_field(base_ops.EinsumOp)
  out_einsum_tpl: LayerTpl = template_field(base_ops.EinsumOp)
  attention_summaries: bool = True

  class WeightSharding(base_layer.BaseLayer.WeightSharding):
    """Weight sharding (mesh axis names per dim).

    Attributes:
      dnh: w_in [D, N, E] and w_q/w_k/w_v [D, N, H].
      nhd: w_out [N, O, D] and w_attn_out [N, H, D].
      df: w_mlp_in [D, F] (unfused).
      fd: w_mlp_out [F, D] (unfused).
    """
    dnh: SplitDimsMapping = None
    nhd: SplitDimsMapping = None
    df: SplitDimsMapping = None
    fd: SplitDimsMapping = None

  class ActivationSharding(base_layer.BaseLayer.ActivationSharding):
    """Activation sharding (mesh axis names per dim).

    Attributes:
      btd: block input/output and attention/MLP outputs [B, T, D].
      btnh: per-head activations [B, T, N, E|O|H].
      bnts: attention logits/probabilities [B, N, T, S].
      btf: unfused MLP hidden [B, T, F].
    """
    btd: SplitDimsMapping = None
    btnh: SplitDimsMapping = None
    bnts: SplitDimsMapping = None
    btf: SplitDimsMapping = None

  @property
  def dim_per_head(self) -> int:
    return self.model_dims // self.num_heads

  def block_config(self) -> core_block.BlockConfig:
    """The pure-JAX configuration of this block (validates the fields)."""
    return core_block.BlockConfig(
        model_dims=self.model_dims, num_heads=self.num_heads,
        hidden_dims=self.hidden_dims, parallel=self.parallel,
        fused=self.fused, qk_norm=self.qk_norm, use_bias=self.use_bias,
        norm_type=self.norm_type, qk_norm_type=self.qk_norm_type,
        norm_bias=self.norm_bias,
        gelu_approximate=getattr(self.activation_tpl, 'approximate', True))

  def weight_split(self, key: str) -> SplitDimsMapping:
    """The split of a `core.block.WeightSpec.sharding` key."""
    wp = self.weight_split_dims_mapping
    if key in ('dnh', 'nhd', 'df', 'fd'):
      return getattr(wp, key)
    if key == 'nh':
      return None if wp.dnh is None else tuple(wp.dnh[1:])
    if key == 'f':
      return None if wp.df is None else (wp.df[1],)
    if key == 'replicated':
      return None if self.mesh_shape is None else (-1,)
    raise ValueError(f'Unknown weight sharding key {key!r}.')

  def setup(self) -> None:
    cfg = self.block_config()
    for name in cfg.norm_names():
      norm_type, dim, bias = cfg.norm_spec(name)
      self.create_child(name, norm_config(norm_type, dim, name, bias))
    self.create_child('activation', self.activation_tpl.clone())
    self.create_child('in_einsum', self.in_einsum_tpl.clone())
    self.create_child('out_einsum', self.out_einsum_tpl.clone())
    for name, spec in core_block.weight_specs(cfg).items():
      init = (WeightInit.Gaussian(spec.std) if spec.std else
              WeightInit.Constant(0.0))
      self.create_variable(name, WeightHParams(
          shape=list(spec.shape), init=init, mesh_shape=self.mesh_shape,
          tensor_split_dims_mapping=self.weight_split(spec.sharding)))

  def _matmul(self, op, eqn: str, x: JTensor, w: JTensor,
              name: str) -> JTensor:
    if getattr(op, 'accepts_weight_sharding', False):
      spec = core_block.weight_specs(self.block_config())[name]
      split = core_block.flat_weight_split(
          name, self.weight_split(spec.sharding))
      return op(eqn, x, w, weight_sharding=split)
    return op(eqn, x, w)

  def _on_attention(self, logits: JTensor, probs: JTensor) -> None:
    max_logit, entropy = attention_stats(logits, probs)
    self.add_summary('max_attention_logit', max_logit)
    self.add_summary('attention_entropy', entropy)

  def _tensor_parallel(self) -> bool:
    """Whether the block's weights are split over a mesh axis of > 1
    device in a model dimension (heads / MLP)."""
    if not self.mesh_axis_names or self.ici_mesh_shape is None:
      return False
    sizes = dict(zip(self.mesh_axis_names, self.ici_mesh_shape))
    if self.dcn_mesh_shape is not None:
      for a, n in zip(self.mesh_axis_names, self.dcn_mesh_shape):
        sizes[a] = sizes.get(a, 1) * n
    wp = self.weight_split_dims_mapping
    for split in (wp.dnh, wp.df):
      entry = split[1] if split and len(split) > 1 else None
      axes = entry if isinstance(entry, (tuple, list)) else (entry,)
      if any(a is not None and sizes.get(a, 1) > 1 for a in axes):
        return True
    return False

  def ops(self) -> core_block.Ops:
    """The praxis hooks `core.block.apply` runs with.

    The fused block splits its weights (`core.block.Ops.split_weights`)
    unless its weights are split over a mesh axis of more than one device
    (tensor parallel) or an einsum op is a collective one
    (`accepts_weight_sharding`: one ring per call). Under tensor
    parallelism every segment matmul would need its own all-gather of the
    input and its own reduction of the output: compiled at the paper's
    mesh (1, 64, 16) that was 16 all-gathers and 13 all-reduces over 'mdl'
    per block instead of 5 and 9, 3x the bytes and 45.7 instead of
    29.0 GiB per device (`tools/dryrun`, docs/scale.md).
    """
    ap = self.activation_split_dims_mapping
    collective = any(getattr(op, 'accepts_weight_sharding', False)
                     for op in (self.in_einsum, self.out_einsum))
    collective = collective or self._tensor_parallel()
    return core_block.Ops(
        in_matmul=lambda x, w, name: self._matmul(
            self.in_einsum, 'md,dk->mk', x, w, name),
        out_matmul=lambda h, w, name: self._matmul(
            self.out_einsum, 'mk,kd->md', h, w, name),
        norm=lambda name, x: getattr(self, name)(x),
        activation=self.activation,
        shard=lambda x, kind: base_layer.maybe_shard(
            x, getattr(ap, kind), self.mesh_axis_names),
        on_attention=(self._on_attention if self.attention_summaries
                      else None),
        split_weights=not collective)

  def __call__(self, inputs: JTensor) -> JTensor:
    """Applies the block.

    Args:
      inputs: [B, T, D] tokens.

    Returns:
      [B, T, D] tokens.
    """
    cfg = self.block_config()
    params = {name: getattr(self.theta, name)
              for name in core_block.weight_specs(cfg)}
    return core_block.apply(params, inputs, cfg, self.ops())


def _norm_params(params) -> dict:
  return {k: v for k, v in params.items() if not k.startswith(('w_', 'b_'))}


def unfused_to_fused(params) -> dict:
  """Maps an unfused parallel block's params to the fused layout.

  Args:
    params: the block's 'params' subtree (fused=False, parallel=True).

  Returns:
    The equivalent fused=True tree (same use_bias; b_out = b_attn_out +
    b_mlp_out, whichever exist).
  """
  out = _norm_params(params)
  d, n, _ = params['w_q'].shape
  f = params['w_mlp_in'].shape[1]
  g = f // n
  out['w_in'] = jnp.concatenate(
      [params['w_q'], params['w_k'], params['w_v'],
       params['w_mlp_in'].reshape(d, n, g)], axis=-1)
  out['w_out'] = jnp.concatenate(
      [params['w_attn_out'], params['w_mlp_out'].reshape(n, g, d)], axis=1)
  for name in ('b_q', 'b_k', 'b_v'):
    if name in params:
      out[name] = params[name]
  if 'b_mlp_in' in params:
    out['b_mlp_in'] = params['b_mlp_in'].reshape(n, g)
  biases = [params[k] for k in ('b_attn_out', 'b_mlp_out') if k in params]
  if biases:
    out['b_out'] = sum(biases)
  return out


def fused_to_unfused(params, use_bias=('mlp', 'out')) -> dict:
  """Maps a fused block's params to the unfused (parallel) layout.

  Args:
    params: the block's 'params' subtree (fused=True).
    use_bias: use_bias of the target unfused block; b_out goes to b_mlp_out
      if 'mlp' is set (b_attn_out = 0), else to b_attn_out.

  Returns:
    The equivalent fused=False, parallel=True tree.
  """
  out = _norm_params(params)
  d, n, e = params['w_in'].shape
  c = params['w_out'].shape[1]
  h = (e - c) // 2
  g = c - h
  w_in = params['w_in']
  out['w_q'], out['w_k'], out['w_v'] = (
      w_in[..., i * h:(i + 1) * h] for i in range(3))
  out['w_mlp_in'] = w_in[..., 3 * h:].reshape(d, n * g)
  out['w_attn_out'] = params['w_out'][:, :h]
  out['w_mlp_out'] = params['w_out'][:, h:].reshape(n * g, d)
  for name in ('b_q', 'b_k', 'b_v'):
    if name in params:
      out[name] = params[name]
  if 'b_mlp_in' in params:
    out['b_mlp_in'] = params['b_mlp_in'].reshape(n * g)
  b_out = params.get('b_out', jnp.zeros((d,), w_in.dtype))
  if 'mlp' in use_bias:
    out['b_mlp_out'] = b_out
    if 'out' in use_bias:
      out['b_attn_out'] = jnp.zeros_like(b_out)
  elif 'out' in use_bias:
    out['b_attn_out'] = b_out
  return out
