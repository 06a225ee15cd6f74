# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""timm / Hugging Face ViT checkpoints (.safetensors) -> a standard ViT.

Read with our numpy safetensors reader (no torch). Names are timm's
`VisionTransformer` state dict (the `model.safetensors` of timm models on
the Hugging Face hub):

  patch_embed.proj.{weight [D, C, P, P], bias}   conv, PyTorch OIHW
  cls_token [1, 1, D], pos_embed [1, (1 +) T, D]
  blocks.{i}.norm1 / norm2.{weight, bias}
  blocks.{i}.attn.qkv.{weight [3D, D], bias [3D]} rows (q|k|v, head, dim)
  blocks.{i}.attn.proj.{weight [D, D], bias}
  blocks.{i}.mlp.fc1.{weight [F, D], bias}, mlp.fc2.{weight [D, F], bias}
  blocks.{i}.ls1.gamma / ls2.gamma [D]          layer scale (optional)
  norm.{weight, bias}                            final norm on the tokens
  attn_pool.{latent, q, kv, proj, norm, mlp.fc1, mlp.fc2}   MAP pooling
  head.{weight [K, D], bias [K]}

Hugging Face transformers' `ViTModel` / `ViTForImageClassification` names
('vit.embeddings...', 'vit.encoder.layer.{i}...', 'classifier') are read too
and renamed to these first.

Mapping notes (all exact): PyTorch linear weights [out, in] are transposed;
the fused qkv rows split into q, k, v [D, N, H]; a class-token position
embedding (timm's default, `no_embed_class=False`, concatenates the class
token and then adds pos_embed) is added to the class token, since our
encoder adds the position embedding to the patches only; layer scale
(`ls1`, `ls2`) is multiplied into the attention output / MLP output
projection; a block without a qkv bias (`qkv_bias=False`) gets zero biases.
timm's MLPs use PyTorch's exact GELU. The position embedding is resampled
as timm's `checkpoint_filter_fn` does (`resample_abs_pos_embed`, bicubic
with antialiasing; see `posemb.py`).

Not supported, and reported as such: `fc_norm` (timm's LayerNorm after
global average pooling: our encoder normalises the tokens before pooling),
register tokens, QK-norm and MLP norms of a block, `norm_pre`, attention
pooling with more than one latent or its own position embedding, and a
checkpoint without a learned position embedding.
"""

from __future__ import annotations

import collections.abc

import numpy as np

from vit22b_pax.weights import layout
from vit22b_pax.weights import safetensors


class _Member:
  """A safetensors tensor: shape from the header, data read when used."""

  def __init__(self, st: safetensors.SafeTensors, name: str):
    self._st, self._name = st, name

  @property
  def shape(self):
    return self._st.shape(self._name)

  def __array__(self, dtype=None):
    arr = self._st[self._name]
    return arr if dtype is None else arr.astype(dtype)


def _is_hf(names) -> bool:
  return any(n.endswith('encoder.layer.0.attention.attention.query.weight')
             for n in names)


def _from_hf(tensors: collections.abc.Mapping, dims: layout.Dims, where: str,
             model: str) -> dict[str, np.ndarray]:
  """Hugging Face transformers ViT names -> timm names (shapes checked)."""
  names = list(tensors)
  prefix = 'vit.' if any(n.startswith('vit.') for n in names) else ''
  t = layout.TensorSource(tensors, where, model)
  d, f, p, c = dims.width, dims.mlp_dim, dims.patch, dims.channels
  e = f'{prefix}embeddings.'
  out = {
      'patch_embed.proj.weight': t.take(
          f'{e}patch_embeddings.projection.weight', (d, c, p, p)),
      'patch_embed.proj.bias': t.take(
          f'{e}patch_embeddings.projection.bias', (d,)),
      'pos_embed': t.take(f'{e}position_embeddings', (1, None, d)),
      'norm.weight': t.take(f'{prefix}layernorm.weight', (d,)),
      'norm.bias': t.take(f'{prefix}layernorm.bias', (d,)),
  }
  if t.has(f'{e}cls_token'):
    out['cls_token'] = t.take(f'{e}cls_token', (1, 1, d))
  renames = (('layernorm_before', 'norm1', (d,)),
             ('layernorm_after', 'norm2', (d,)),
             ('attention.output.dense', 'attn.proj', (d, d)),
             ('intermediate.dense', 'mlp.fc1', (f, d)),
             ('output.dense', 'mlp.fc2', (d, f)))
  for i in range(dims.depth):
    layer = f'{prefix}encoder.layer.{i}.'
    for theirs, ours, shape in renames:
      out[f'blocks.{i}.{ours}.weight'] = t.take(f'{layer}{theirs}.weight',
                                                shape)
      out[f'blocks.{i}.{ours}.bias'] = t.take(f'{layer}{theirs}.bias',
                                              shape[:1])
    for kind in ('weight', 'bias'):
      out[f'blocks.{i}.attn.qkv.{kind}'] = np.concatenate([
          t.take(f'{layer}attention.attention.{x}.{kind}',
                 (d, d) if kind == 'weight' else (d,))
          for x in ('query', 'key', 'value')])
  if t.has('classifier.weight'):
    w = t.take('classifier.weight', (None, d))
    out['head.weight'] = w
    out['head.bias'] = t.take('classifier.bias', (w.shape[0],))
  t.finish()
  return out


def _qkv_split(w: np.ndarray, n: int, h: int) -> list[np.ndarray]:
  """[3D(, D)] rows (q|k|v, head, dim) -> three [D, N, H] (or [N, H])."""
  parts = np.split(w, 3, axis=0)
  if w.ndim == 1:
    return [x.reshape(n, h) for x in parts]
  return [x.reshape(n, h, -1).transpose(2, 0, 1) for x in parts]


def _linear_in(w: np.ndarray) -> np.ndarray:
  """PyTorch [out, in] -> our [in, out]."""
  return np.ascontiguousarray(w.T)


def read(src: str, dims: layout.Dims, model: str, *,
         image_size: int | None = None, pooling: str | None = None,
         normalization: str | None = None,
         gelu_approximate: bool = False) -> layout.Imported:
  """Reads a timm (or HF transformers) ViT .safetensors into our layout.

  Args:
    src: the .safetensors file.
    dims: the expected sizes (every tensor is checked against them).
    model: name of the expected model for messages (e.g. 'ViT-B/16').
    image_size: target resolution (position embedding resampled as timm
      does); None = the checkpoint's.
    pooling: 'map', 'gap' or 'cls'; None = from the checkpoint (attn_pool ->
      'map', class token -> 'cls', else 'gap').
    normalization: the input normalisation the model was trained with
      (`layout.NORMALIZATIONS` name or 'm,m,m/s,s,s'); a safetensors file
      does not record it, so it must be given.
    gelu_approximate: the model's GELU (timm: exact, the default).

  Raises:
    ValueError: no normalisation given, a missing or misshapen tensor
      (naming it and both shapes), an unsupported part of the model.
  """
  if not normalization:
    raise ValueError(
        'timm / Hugging Face checkpoints do not record their input '
        'normalization; pass it: "inception" (mean = std = 0.5: AugReg, '
        'SigLIP, google/vit-*), "imagenet" (DeiT and most timm ImageNet-1k '
        'models) or "m1,m2,m3/s1,s2,s3" from the model card\'s '
        'pretrained_cfg mean / std.')
  st = safetensors.SafeTensors(src)
  described = f'{model} ({dims.describe()})'
  tensors = {n: _Member(st, n) for n in st}
  where = f'timm checkpoint {src!r}'
  notes = []
  if _is_hf(tensors):
    where = f'Hugging Face transformers ViT checkpoint {src!r}'
    tensors = _from_hf(tensors, dims, where, described)
    notes.append('Hugging Face names mapped to timm\'s; its LayerNorm '
                 'epsilon (1e-12 in ViTConfig) becomes ours (1e-6).')
  t = layout.TensorSource(tensors, where, described)
  d, f, n, h = dims.width, dims.mlp_dim, dims.num_heads, dims.head_dim
  p, c = dims.patch, dims.channels

  if t.has('fc_norm.weight'):
    raise ValueError(
        f"{where} has 'fc_norm' (timm's LayerNorm after global average "
        "pooling, global_pool='avg' with fc_norm): our encoder normalises the "
        'tokens before pooling, so this model cannot be represented.')
  for name in t.names():
    if name.startswith(('reg_token', 'norm_pre.')) or '.q_norm.' in name:
      raise ValueError(f'{where} has {name!r}: register tokens, norm_pre and '
                       'QK-norm are not supported by the importer.')
  patch_w = t.take('patch_embed.proj.weight', (d, c, p, p)).transpose(
      2, 3, 1, 0)
  patch_b = t.take('patch_embed.proj.bias', (d,))
  cls = t.take('cls_token', (1, 1, d)) if t.has('cls_token') else None
  if not t.has('pos_embed'):
    raise ValueError(f"{where} has no learned position embedding "
                     "'pos_embed' (models without one are not supported).")
  pe = t.take('pos_embed', (1, None, d))
  tokens = pe.shape[1]
  if cls is not None and tokens > 1 and (
      round((tokens - 1)**0.5)**2 + 1 == tokens):
    cls, pe = cls + pe[:, :1], pe[:, 1:]
    notes.append('class-token position embedding added to the class token.')
  grid = layout.square_grid(pe.shape[1], f"{where}: 'pos_embed'")

  blocks = []
  zero_qkv_bias = False
  for i in range(dims.depth):
    b = f'blocks.{i}.'
    block = {'norm/scale': t.take(f'{b}norm1.weight', (d,)),
             'norm/bias': t.take(f'{b}norm1.bias', (d,))}
    qkv = t.take(f'{b}attn.qkv.weight', (3 * d, d))
    if t.has(f'{b}attn.qkv.bias'):
      qkv_b = t.take(f'{b}attn.qkv.bias', (3 * d,))
    else:
      qkv_b, zero_qkv_bias = np.zeros((3 * d,), np.float32), True
    for x, w, bias in zip('qkv', _qkv_split(qkv, n, h),
                          _qkv_split(qkv_b, n, h)):
      block[f'w_{x}'], block[f'b_{x}'] = w, bias
    w_out = _linear_in(t.take(f'{b}attn.proj.weight', (d, d)))
    b_out = t.take(f'{b}attn.proj.bias', (d,))
    w_mlp_out = _linear_in(t.take(f'{b}mlp.fc2.weight', (d, f)))
    b_mlp_out = t.take(f'{b}mlp.fc2.bias', (d,))
    if t.has(f'{b}ls1.gamma'):
      gamma = t.take(f'{b}ls1.gamma', (d,))
      w_out, b_out = w_out * gamma, b_out * gamma
    if t.has(f'{b}ls2.gamma'):
      gamma = t.take(f'{b}ls2.gamma', (d,))
      w_mlp_out, b_mlp_out = w_mlp_out * gamma, b_mlp_out * gamma
    block['w_attn_out'] = w_out.reshape(n, h, d)
    block['b_attn_out'] = b_out
    block['mlp_norm/scale'] = t.take(f'{b}norm2.weight', (d,))
    block['mlp_norm/bias'] = t.take(f'{b}norm2.bias', (d,))
    block['w_mlp_in'] = _linear_in(t.take(f'{b}mlp.fc1.weight', (f, d)))
    block['b_mlp_in'] = t.take(f'{b}mlp.fc1.bias', (f,))
    block['w_mlp_out'], block['b_mlp_out'] = w_mlp_out, b_mlp_out
    blocks.append(block)
  if zero_qkv_bias:
    notes.append('blocks without a qkv bias get zero q/k/v biases.')
  if any(t.has(f'blocks.0.ls{k}.gamma') for k in (1, 2)):
    notes.append('layer scale multiplied into the output projections.')
  encoder_norm = {'scale': t.take('norm.weight', (d,)),
                  'bias': t.take('norm.bias', (d,))}

  map_head = None
  if t.has('attn_pool.latent'):
    a = 'attn_pool.'
    map_head = {'probe': t.take(f'{a}latent', (1, 1, d))}
    map_head['w_q'] = _linear_in(t.take(f'{a}q.weight', (d, d))).reshape(
        d, n, h)
    map_head['b_q'] = t.take(f'{a}q.bias', (d,)).reshape(n, h)
    kv = t.take(f'{a}kv.weight', (2 * d, d))
    kv_b = t.take(f'{a}kv.bias', (2 * d,))
    for x, w, bias in zip('kv', np.split(kv, 2), np.split(kv_b, 2)):
      map_head[f'w_{x}'] = w.reshape(n, h, d).transpose(2, 0, 1)
      map_head[f'b_{x}'] = bias.reshape(n, h)
    map_head['w_out'] = _linear_in(t.take(f'{a}proj.weight', (d, d))
                                   ).reshape(n, h, d)
    map_head['b_out'] = t.take(f'{a}proj.bias', (d,))
    map_head['norm/scale'] = t.take(f'{a}norm.weight', (d,))
    map_head['norm/bias'] = t.take(f'{a}norm.bias', (d,))
    map_head['w_mlp_in'] = _linear_in(t.take(f'{a}mlp.fc1.weight', (f, d)))
    map_head['b_mlp_in'] = t.take(f'{a}mlp.fc1.bias', (f,))
    map_head['w_mlp_out'] = _linear_in(t.take(f'{a}mlp.fc2.weight', (d, f)))
    map_head['b_mlp_out'] = t.take(f'{a}mlp.fc2.bias', (d,))
  head = None
  if t.has('head.weight'):
    w = t.take('head.weight', (None, d))
    head = (_linear_in(w), t.take('head.bias', (w.shape[0],)))
  t.finish()
  if pooling is None:
    pooling = ('map' if map_head is not None else
               'cls' if cls is not None else 'gap')
  return layout.assemble(
      dims=dims, patch_w=np.ascontiguousarray(patch_w), patch_b=patch_b,
      posemb=pe, grid=grid, cls=cls, blocks=blocks,
      encoder_norm=encoder_norm, map_head=map_head, head=head,
      pooling=pooling, gelu_approximate=gelu_approximate,
      image_size=image_size, resample_method='bicubic',
      normalization=normalization, notes=notes)
