# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Independent numpy references for the weight-import tests.

Random source checkpoints in each codebase's own names and layouts, written
the way each codebase writes them (np.savez; safetensors from its format
spec), and each codebase's ViT forward pass written directly over those
names in float64 numpy: big_vision's `vit._Model` and timm's
`VisionTransformer`. Nothing here uses the importer's code.
"""

from __future__ import annotations

import json
import math
import struct

import numpy as np
from PIL import Image
from scipy import special

EPS = 1e-6


# -- Files ------------------------------------------------------------------
def write_safetensors(path: str, tensors: dict[str, np.ndarray],
                      metadata: dict[str, str] | None = None) -> None:
  """The safetensors layout: u64 header size, JSON header, raw LE data."""
  codes = {np.dtype('<f4'): 'F32', np.dtype('<f2'): 'F16',
           np.dtype('<f8'): 'F64', np.dtype('<i8'): 'I64'}
  header, blobs, offset = {}, [], 0
  for name, value in tensors.items():
    arr = np.asarray(value)  # tobytes() is C order; 0-d stays 0-d.
    if arr.dtype.name == 'bfloat16':
      code = 'BF16'
    else:
      arr = arr.astype(arr.dtype.newbyteorder('<'))
      code = codes[arr.dtype]
    data = arr.tobytes()
    header[name] = {'dtype': code, 'shape': list(arr.shape),
                    'data_offsets': [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
  if metadata:
    header['__metadata__'] = metadata
  raw = json.dumps(header).encode()
  raw += b' ' * (-len(raw) % 8)
  with open(path, 'wb') as f:
    f.write(struct.pack('<Q', len(raw)) + raw + b''.join(blobs))


# -- Building blocks (float64) -----------------------------------------------
def layer_norm(x, scale, bias):
  mu = x.mean(-1, keepdims=True)
  var = ((x - mu)**2).mean(-1, keepdims=True)
  return (x - mu) / np.sqrt(var + EPS) * scale + bias


def gelu(x, approximate):
  if approximate:
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
  return 0.5 * x * (1 + special.erf(x / np.sqrt(2)))


def softmax(x):
  e = np.exp(x - x.max(-1, keepdims=True))
  return e / e.sum(-1, keepdims=True)


def attend(q, k, v):
  """q [B, T, N, H], k, v [B, S, N, H] -> [B, T, N, H]."""
  logits = np.einsum('btnh,bsnh->bnts', q, k) / np.sqrt(q.shape[-1])
  return np.einsum('bnts,bsnh->btnh', softmax(logits), v)


def patches(images, p):
  """[B, H, W, C] -> [B, (H/p)*(W/p), p*p*C] (row-major grid, (p, q, c))."""
  b, h, w, c = images.shape
  x = images.reshape(b, h // p, p, w // p, p, c).transpose(0, 1, 3, 2, 4, 5)
  return x.reshape(b, (h // p) * (w // p), p * p * c)


def linear_corner_aligned(grid, new_h, new_w):
  """Linear resampling with corner samples aligned ([h, w, D])."""
  def matrix(n_in, n_out):
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
      x = 0.0 if n_out == 1 else i * (n_in - 1) / (n_out - 1)
      lo = min(int(np.floor(x)), n_in - 1)
      hi = min(lo + 1, n_in - 1)
      m[i, lo] += 1 - (x - lo)
      m[i, hi] += x - lo
    return m
  return np.einsum('ih,jw,hwd->ijd', matrix(grid.shape[0], new_h),
                   matrix(grid.shape[1], new_w), grid)


def pil_bicubic(grid, new_h, new_w):
  """PIL's float BICUBIC resize of every channel of [h, w, D]."""
  chans = [np.asarray(Image.fromarray(np.ascontiguousarray(
      grid[..., c].astype(np.float32)), 'F').resize((new_w, new_h),
                                                     Image.BICUBIC))
           for c in range(grid.shape[-1])]
  return np.stack(chans, -1).astype(np.float64)


# -- big_vision --------------------------------------------------------------
def big_vision_params(rng, *, width, depth, mlp, heads, patch, grid, classes,
                      pooling, prelinen=False, old_posemb=False,
                      scanned=False):
  """Random big_vision ViT parameters {flat name: float32 array}."""
  d, n, h, f = width, heads, width // heads, mlp

  def r(*shape, scale=0.3):
    return (scale * rng.standard_normal(shape)).astype(np.float32)

  t = {'embedding/kernel': r(patch, patch, 3, d),
       'embedding/bias': r(d)}
  tokens = grid * grid
  if pooling == 'tok':
    t['cls'] = r(1, 1, d)
  if old_posemb:
    t['Transformer/posembed_input/pos_embedding'] = r(1, tokens + 1, d)
  else:
    t['pos_embedding'] = r(1, tokens, d)
  mha, ln2, mlpb = (('MultiHeadDotProductAttention_1', 'LayerNorm_2',
                     'MlpBlock_3') if prelinen else
                    ('MultiHeadDotProductAttention_0', 'LayerNorm_1',
                     'MlpBlock_0'))
  blocks = []
  for _ in range(depth):
    b = {}
    for ln in ('LayerNorm_0', ln2):
      b[f'{ln}/scale'] = 1 + r(d)
      b[f'{ln}/bias'] = r(d)
    for x in ('query', 'key', 'value'):
      b[f'{mha}/{x}/kernel'] = r(d, n, h)
      b[f'{mha}/{x}/bias'] = r(n, h)
    b[f'{mha}/out/kernel'] = r(n, h, d)
    b[f'{mha}/out/bias'] = r(d)
    b[f'{mlpb}/Dense_0/kernel'] = r(d, f)
    b[f'{mlpb}/Dense_0/bias'] = r(f)
    b[f'{mlpb}/Dense_1/kernel'] = r(f, d)
    b[f'{mlpb}/Dense_1/bias'] = r(d)
    blocks.append(b)
  if scanned:
    for k in blocks[0]:
      t[f'Transformer/encoderblock/{k}'] = np.stack([b[k] for b in blocks])
  else:
    for i, b in enumerate(blocks):
      for k, v in b.items():
        t[f'Transformer/encoderblock_{i}/{k}'] = v
  t['Transformer/encoder_norm/scale'] = 1 + r(d)
  t['Transformer/encoder_norm/bias'] = r(d)
  if pooling == 'map':
    m = 'MAPHead_0/'
    t[m + 'probe'] = r(1, 1, d)
    for x in ('query', 'key', 'value'):
      t[f'{m}MultiHeadDotProductAttention_0/{x}/kernel'] = r(d, n, h)
      t[f'{m}MultiHeadDotProductAttention_0/{x}/bias'] = r(n, h)
    t[f'{m}MultiHeadDotProductAttention_0/out/kernel'] = r(n, h, d)
    t[f'{m}MultiHeadDotProductAttention_0/out/bias'] = r(d)
    t[m + 'LayerNorm_0/scale'] = 1 + r(d)
    t[m + 'LayerNorm_0/bias'] = r(d)
    t[m + 'MlpBlock_0/Dense_0/kernel'] = r(d, f)
    t[m + 'MlpBlock_0/Dense_0/bias'] = r(f)
    t[m + 'MlpBlock_0/Dense_1/kernel'] = r(f, d)
    t[m + 'MlpBlock_0/Dense_1/bias'] = r(d)
  t['head/kernel'] = r(d, classes)
  t['head/bias'] = r(classes)
  return t


def _bv_mha(t, prefix, xq, xkv):
  def proj(name, x):
    return np.einsum('btd,dnh->btnh', x, t[f'{prefix}/{name}/kernel']) + t[
        f'{prefix}/{name}/bias']
  ctx = attend(proj('query', xq), proj('key', xkv), proj('value', xkv))
  return np.einsum('btnh,nhd->btd', ctx, t[f'{prefix}/out/kernel']) + t[
      f'{prefix}/out/bias']


def _bv_mlp(t, prefix, x):
  y = gelu(x @ t[f'{prefix}/Dense_0/kernel'] + t[f'{prefix}/Dense_0/bias'],
           True)
  return y @ t[f'{prefix}/Dense_1/kernel'] + t[f'{prefix}/Dense_1/bias']


def big_vision_forward(params, images, *, depth, pooling, prelinen=False):
  """big_vision `vit._Model` logits, images in [-1, 1], float64.

  The position embedding is resampled to the image's grid with linear
  corner-aligned interpolation (what scipy.ndimage.zoom(order=1) computes).
  """
  t = {k: np.asarray(v, np.float64) for k, v in params.items()}
  if 'Transformer/encoderblock/LayerNorm_0/scale' in t:  # scanned
    for k in [k for k in t if k.startswith('Transformer/encoderblock/')]:
      stacked = t.pop(k)
      for i in range(depth):
        t[k.replace('encoderblock/', f'encoderblock_{i}/')] = stacked[i]
  kernel = t['embedding/kernel']
  p = kernel.shape[0]
  x = patches(np.asarray(images, np.float64), p) @ kernel.reshape(
      -1, kernel.shape[-1]) + t['embedding/bias']
  pe = t.get('pos_embedding', t.get('Transformer/posembed_input/pos_embedding'))
  cls = t.get('cls')
  if pe.shape[1] != round(math.sqrt(pe.shape[1]))**2:  # old: cls + posemb
    cls = cls + pe[:, :1]
    pe = pe[:, 1:]
  g_old = round(math.sqrt(pe.shape[1]))
  g_new = images.shape[1] // p
  grid = pe.reshape(g_old, g_old, -1)
  if g_new != g_old:
    grid = linear_corner_aligned(grid, g_new, g_new)
  x = x + grid.reshape(1, g_new * g_new, -1)
  if pooling == 'tok':
    x = np.concatenate([np.broadcast_to(cls, (x.shape[0], 1, x.shape[2])),
                        x], axis=1)
  mha, ln2, mlpb = (('MultiHeadDotProductAttention_1', 'LayerNorm_2',
                     'MlpBlock_3') if prelinen else
                    ('MultiHeadDotProductAttention_0', 'LayerNorm_1',
                     'MlpBlock_0'))
  for i in range(depth):
    b = f'Transformer/encoderblock_{i}/'
    y = layer_norm(x, t[b + 'LayerNorm_0/scale'], t[b + 'LayerNorm_0/bias'])
    x = x + _bv_mha(t, b + mha, y, y)
    y = layer_norm(x, t[f'{b}{ln2}/scale'], t[f'{b}{ln2}/bias'])
    x = x + _bv_mlp(t, b + mlpb, y)
  x = layer_norm(x, t['Transformer/encoder_norm/scale'],
                 t['Transformer/encoder_norm/bias'])
  if pooling == 'map':
    m = 'MAPHead_0/'
    probe = np.broadcast_to(t[m + 'probe'], (x.shape[0], 1, x.shape[2]))
    o = _bv_mha(t, m + 'MultiHeadDotProductAttention_0', probe, x)
    y = layer_norm(o, t[m + 'LayerNorm_0/scale'], t[m + 'LayerNorm_0/bias'])
    feats = (o + _bv_mlp(t, m + 'MlpBlock_0', y))[:, 0]
  elif pooling == 'gap':
    feats = x.mean(1)
  else:
    feats = x[:, 0]
  return feats @ t['head/kernel'] + t['head/bias']


# -- timm ----------------------------------------------------------------------
def timm_params(rng, *, width, depth, mlp, heads, patch, grid, classes,
                pooling, cls_posemb=True, layer_scale=False, qkv_bias=True):
  """Random timm VisionTransformer state dict {name: float32 [torch layout]}.

  pooling: 'token' (class token), 'map' (attn_pool, no class token) or
  'avg' (no class token, fc_norm=False: final norm on the tokens).
  """
  d, f = width, mlp

  def r(*shape, scale=0.3):
    return (scale * rng.standard_normal(shape)).astype(np.float32)

  t = {'patch_embed.proj.weight': r(d, 3, patch, patch),
       'patch_embed.proj.bias': r(d)}
  prefix = 0
  if pooling == 'token':
    t['cls_token'] = r(1, 1, d)
    prefix = 1 if cls_posemb else 0
  t['pos_embed'] = r(1, prefix + grid * grid, d)
  for i in range(depth):
    b = f'blocks.{i}.'
    t[b + 'norm1.weight'], t[b + 'norm1.bias'] = 1 + r(d), r(d)
    t[b + 'attn.qkv.weight'] = r(3 * d, d)
    if qkv_bias:
      t[b + 'attn.qkv.bias'] = r(3 * d)
    t[b + 'attn.proj.weight'], t[b + 'attn.proj.bias'] = r(d, d), r(d)
    if layer_scale:
      t[b + 'ls1.gamma'], t[b + 'ls2.gamma'] = 1 + r(d), 1 + r(d)
    t[b + 'norm2.weight'], t[b + 'norm2.bias'] = 1 + r(d), r(d)
    t[b + 'mlp.fc1.weight'], t[b + 'mlp.fc1.bias'] = r(f, d), r(f)
    t[b + 'mlp.fc2.weight'], t[b + 'mlp.fc2.bias'] = r(d, f), r(d)
  t['norm.weight'], t['norm.bias'] = 1 + r(d), r(d)
  if pooling == 'map':
    a = 'attn_pool.'
    t[a + 'latent'] = r(1, 1, d)
    t[a + 'q.weight'], t[a + 'q.bias'] = r(d, d), r(d)
    t[a + 'kv.weight'], t[a + 'kv.bias'] = r(2 * d, d), r(2 * d)
    t[a + 'proj.weight'], t[a + 'proj.bias'] = r(d, d), r(d)
    t[a + 'norm.weight'], t[a + 'norm.bias'] = 1 + r(d), r(d)
    t[a + 'mlp.fc1.weight'], t[a + 'mlp.fc1.bias'] = r(f, d), r(f)
    t[a + 'mlp.fc2.weight'], t[a + 'mlp.fc2.bias'] = r(d, f), r(d)
  t['head.weight'], t['head.bias'] = r(classes, d), r(classes)
  return t


def _torch_linear(t, name, x):
  out = x @ t[name + '.weight'].T
  return out + t[name + '.bias'] if name + '.bias' in t else out


def _timm_attention(q, k, v, heads):
  b, tq, d = q.shape
  h = d // heads
  split = lambda x: x.reshape(b, x.shape[1], heads, h)
  return attend(split(q), split(k), split(v)).reshape(b, tq, d)


def timm_forward(params, images, *, depth, heads, pooling):
  """timm `VisionTransformer` logits over images already normalised as
  the model expects, float64 (torch layouts, fused qkv, exact GELU)."""
  t = {k: np.asarray(v, np.float64) for k, v in params.items()}
  w = t['patch_embed.proj.weight']  # [D, C, P, P]
  p = w.shape[-1]
  x = patches(np.asarray(images, np.float64), p) @ w.transpose(
      2, 3, 1, 0).reshape(-1, w.shape[0]) + t['patch_embed.proj.bias']
  b = x.shape[0]
  pe = t['pos_embed']
  has_cls = 'cls_token' in t
  prefix = 1 if has_cls and pe.shape[1] != round(
      math.sqrt(pe.shape[1]))**2 else 0
  g_old = round(math.sqrt(pe.shape[1] - prefix))
  g_new = images.shape[1] // p
  grid = pe[0, prefix:].reshape(g_old, g_old, -1)
  if g_new != g_old:
    grid = pil_bicubic(grid, g_new, g_new)
  pe = np.concatenate([pe[:, :prefix], grid.reshape(1, -1, grid.shape[-1])],
                      1)
  if has_cls:
    cls = np.broadcast_to(t['cls_token'], (b, 1, x.shape[2]))
    if prefix:  # concat, then add
      x = np.concatenate([cls, x], 1) + pe
    else:  # no_embed_class: add, then concat
      x = np.concatenate([cls, x + pe], 1)
  else:
    x = x + pe
  for i in range(depth):
    n = f'blocks.{i}.'
    y = layer_norm(x, t[n + 'norm1.weight'], t[n + 'norm1.bias'])
    qkv = _torch_linear(t, n + 'attn.qkv', y)
    q, k, v = np.split(qkv, 3, axis=-1)
    a = _torch_linear(t, n + 'attn.proj', _timm_attention(q, k, v, heads))
    x = x + a * t.get(n + 'ls1.gamma', 1.0)
    y = layer_norm(x, t[n + 'norm2.weight'], t[n + 'norm2.bias'])
    m = _torch_linear(t, n + 'mlp.fc2', gelu(
        _torch_linear(t, n + 'mlp.fc1', y), False))
    x = x + m * t.get(n + 'ls2.gamma', 1.0)
  x = layer_norm(x, t['norm.weight'], t['norm.bias'])
  if pooling == 'map':
    a = 'attn_pool.'
    q = _torch_linear(t, a + 'q', np.broadcast_to(t[a + 'latent'],
                                                  (b, 1, x.shape[2])))
    k, v = np.split(_torch_linear(t, a + 'kv', x), 2, axis=-1)
    o = _torch_linear(t, a + 'proj', _timm_attention(q, k, v, heads))
    y = layer_norm(o, t[a + 'norm.weight'], t[a + 'norm.bias'])
    o = o + _torch_linear(t, a + 'mlp.fc2', gelu(
        _torch_linear(t, a + 'mlp.fc1', y), False))
    feats = o[:, 0]
  elif pooling == 'avg':
    feats = x[:, int(has_cls):].mean(1)
  else:
    feats = x[:, 0]
  return _torch_linear(t, 'head', feats)


def timm_to_hf(t, depth):
  """timm names -> Hugging Face transformers ViTForImageClassification."""
  d = t['norm.weight'].shape[0]
  e = 'vit.embeddings.'
  hf = {e + 'cls_token': t['cls_token'],
        e + 'position_embeddings': t['pos_embed'],
        e + 'patch_embeddings.projection.weight': t['patch_embed.proj.weight'],
        e + 'patch_embeddings.projection.bias': t['patch_embed.proj.bias'],
        'vit.layernorm.weight': t['norm.weight'],
        'vit.layernorm.bias': t['norm.bias'],
        'classifier.weight': t['head.weight'],
        'classifier.bias': t['head.bias']}
  for i in range(depth):
    b, l = f'blocks.{i}.', f'vit.encoder.layer.{i}.'
    for ours, theirs in (('norm1', 'layernorm_before'),
                         ('norm2', 'layernorm_after'),
                         ('attn.proj', 'attention.output.dense'),
                         ('mlp.fc1', 'intermediate.dense'),
                         ('mlp.fc2', 'output.dense')):
      for kind in ('weight', 'bias'):
        hf[f'{l}{theirs}.{kind}'] = t[f'{b}{ours}.{kind}']
    for j, x in enumerate(('query', 'key', 'value')):
      hf[f'{l}attention.attention.{x}.weight'] = t[
          b + 'attn.qkv.weight'][j * d:(j + 1) * d]
      hf[f'{l}attention.attention.{x}.bias'] = t[
          b + 'attn.qkv.bias'][j * d:(j + 1) * d]
  return hf
