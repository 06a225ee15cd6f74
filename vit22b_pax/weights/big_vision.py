# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""big_vision / AugReg / SigLIP ViT checkpoints (.npz) -> a standard ViT.

Read with `np.load(path, allow_pickle=False)`; names are big_vision's
`tree_flatten_with_names` ('/'-joined flax module paths). What is handled,
following big_vision's `vit.load` / `fix_old_checkpoints`:

* Containers: parameters at the top level (released files), under
  'params/' (optax checkpoints) or 'opt/target/' (flax optimizer); a
  sub-model picked with `PATH:img` as big_vision's `load_params` does (the
  SigLIP image tower: 'params/img/...').
* Position embedding at 'pos_embedding' (current), 'Transformer/
  pos_embedding' (pre-2022) or 'Transformer/posembed_input/pos_embedding'
  (the original ViT / AugReg files); a table with one entry more than a
  square grid holds the class token's embedding first, which is added to
  'cls' (exact: big_vision does the same).
* Blocks unrolled ('Transformer/encoderblock_{i}/...') or scanned
  ('Transformer/encoderblock/...' with a leading depth axis); linen names
  (LayerNorm_0, MultiHeadDotProductAttention_0, LayerNorm_1, MlpBlock_0) or
  the pre-linen ones of the AugReg files (LayerNorm_0,
  MultiHeadDotProductAttention_1, LayerNorm_2, MlpBlock_3).
* Heads: 'MAPHead_0/...' (or the probe inlined at the top level, as early
  ViT-G checkpoints), a class token 'cls' (pool_type 'tok'), otherwise global
  average pooling; 'head/kernel' and 'head/bias' if the model has a
  classifier. A 'pre_logits' layer (and anything else) is reported as
  unsupported.

big_vision's MLPs use flax's `nn.gelu` (tanh approximation); inputs are
images in [-1, 1]; the position embedding is resampled with
`scipy.ndimage.zoom(order=1)`, as `vit.resample_posemb`.
"""

from __future__ import annotations

import collections.abc
import os
import re
import zipfile

import numpy as np

from vit22b_pax.weights import layout

_CONTAINERS = ('params/', 'opt/target/')


class _Subtree(collections.abc.Mapping):
  """The arrays of an NpzFile below a name prefix, read when accessed."""

  def __init__(self, npz, prefix: str):
    self._npz, self._prefix = npz, prefix
    self._names = [n[len(prefix):] for n in npz.files if n.startswith(prefix)]

  def __getitem__(self, name):
    if name not in self._names:
      raise KeyError(name)
    return self._npz[self._prefix + name]

  def __iter__(self):
    return iter(self._names)

  def __len__(self):
    return len(self._names)


class _Member:
  """An npz member, read (once) when its shape or value is first needed."""

  def __init__(self, subtree: _Subtree, name: str):
    self._subtree, self._name, self._value = subtree, name, None

  def _read(self) -> np.ndarray:
    if self._value is None:
      try:
        self._value = self._subtree[self._name]
      except ValueError as e:  # numpy refuses pickled (object) members.
        raise ValueError(f'{self._name!r} is an object array (pickled '
                         'Python objects); refused: checkpoints are read '
                         f'with allow_pickle=False ({e}).') from e
    return self._value

  @property
  def shape(self):
    return self._read().shape

  def __array__(self, dtype=None):
    arr = self._read()
    return arr if dtype is None else arr.astype(dtype)


def split_source(src: str) -> tuple[str, str]:
  """'file.npz:img' -> ('file.npz', 'img'); 'file.npz' -> ('file.npz', '')."""
  m = re.fullmatch(r'(.+?)(?::([\w/]+))?', src)
  path, key = m.group(1), m.group(2) or ''
  if key and not os.path.exists(path) and os.path.exists(src):
    return src, ''
  return path, key.strip('/')


def open_npz(src: str) -> tuple[collections.abc.Mapping, str]:
  """The ViT's arrays of a big_vision .npz (name -> array, read lazily).

  Args:
    src: path, optionally with ':submodel' (e.g. 'siglip.npz:img').

  Returns:
    (name -> array mapping rooted at the ViT, description for messages).

  Raises:
    ValueError: not a readable .npz, or no ViT at the chosen root.
  """
  path, key = split_source(src)
  if not os.path.isfile(path):
    raise ValueError(f'No big_vision checkpoint at {path!r}.')
  try:
    npz = np.load(path, allow_pickle=False)
  except (OSError, ValueError, zipfile.BadZipFile) as e:
    raise ValueError(f'{path!r} is not a numpy .npz file ({e}).') from e
  if not isinstance(npz, np.lib.npyio.NpzFile):
    raise ValueError(f'{path!r} holds a single array, not a big_vision '
                     'checkpoint (.npz of named parameters).')
  prefix = ''
  for container in _CONTAINERS:
    if any(n.startswith(container) for n in npz.files):
      prefix = container
      break
  if key:
    prefix += key + '/'
  tree = _Subtree(npz, prefix)
  where = f'big_vision checkpoint {path!r}' + (f' (under {prefix!r})'
                                               if prefix else '')
  if 'embedding/kernel' not in tree:
    subs = sorted({n[len(prefix):].split('/')[0] for n in npz.files
                   if n.startswith(prefix) and
                   n.endswith('/embedding/kernel')})
    hint = (f'; it has a ViT under {subs}: pass --src {path}:{subs[0]}'
            if subs else '')
    raise ValueError(f'{where} has no ViT patch embedding '
                     f"'embedding/kernel'{hint}.")
  return {n: _Member(tree, n) for n in tree}, where


def _block_names(t: layout.TensorSource, scanned: bool) -> tuple[str, ...]:
  """(attention, second norm, MLP) module names: linen or pre-linen."""
  block = 'Transformer/encoderblock' + ('' if scanned else '_0')
  if t.has(f'{block}/MultiHeadDotProductAttention_1/query/kernel'):
    return 'MultiHeadDotProductAttention_1', 'LayerNorm_2', 'MlpBlock_3'
  return 'MultiHeadDotProductAttention_0', 'LayerNorm_1', 'MlpBlock_0'


def _attention(get, prefix: str, dims: layout.Dims) -> dict[str, np.ndarray]:
  d, n, h = dims.width, dims.num_heads, dims.head_dim
  out = {}
  for ours, theirs in (('q', 'query'), ('k', 'key'), ('v', 'value')):
    out[f'w_{ours}'] = get(f'{prefix}/{theirs}/kernel', (d, n, h))
    out[f'b_{ours}'] = get(f'{prefix}/{theirs}/bias', (n, h))
  out['w_out'] = get(f'{prefix}/out/kernel', (n, h, d))
  out['b_out'] = get(f'{prefix}/out/bias', (d,))
  return out


def _mlp(get, prefix: str, dims: layout.Dims) -> dict[str, np.ndarray]:
  d, f = dims.width, dims.mlp_dim
  return {'w_mlp_in': get(f'{prefix}/Dense_0/kernel', (d, f)),
          'b_mlp_in': get(f'{prefix}/Dense_0/bias', (f,)),
          'w_mlp_out': get(f'{prefix}/Dense_1/kernel', (f, d)),
          'b_mlp_out': get(f'{prefix}/Dense_1/bias', (d,))}


def _norm(get, prefix: str, dims: layout.Dims) -> dict[str, np.ndarray]:
  return {'scale': get(f'{prefix}/scale', (dims.width,)),
          'bias': get(f'{prefix}/bias', (dims.width,))}


def read(src: str, dims: layout.Dims, model: str, *,
         image_size: int | None = None, pooling: str | None = None,
         normalization: str = 'inception',
         gelu_approximate: bool = True) -> layout.Imported:
  """Reads a big_vision ViT checkpoint into our standard-ViT layout.

  Args:
    src: .npz path, optionally ':submodel' (e.g. ':img' for SigLIP).
    dims: the expected sizes (every tensor is checked against them).
    model: name of the expected model for messages (e.g. 'ViT-B/16').
    image_size: target resolution (position embedding resampled with
      scipy zoom); None = the checkpoint's.
    pooling: 'map', 'gap' or 'cls'; None = from the checkpoint (MAP head ->
      'map', class token -> 'cls', else 'gap').
    normalization: the input normalisation it was trained with (big_vision:
      'inception', i.e. [-1, 1]).
    gelu_approximate: the model's GELU (big_vision: flax's tanh
      approximation, the default).

  Raises:
    ValueError: a missing or misshapen tensor (naming it and both shapes), a
      tensor with no place in the model, or an inconsistent head.
  """
  tensors, where = open_npz(src)
  t = layout.TensorSource(tensors, where, f'{model} ({dims.describe()})')
  d, p, c = dims.width, dims.patch, dims.channels
  notes = []
  patch_w = t.take('embedding/kernel', (p, p, c, d))
  patch_b = t.take('embedding/bias', (d,))
  cls = t.take('cls', (1, 1, d)) if t.has('cls') else None
  for name in ('pos_embedding', 'Transformer/pos_embedding',
               'Transformer/posembed_input/pos_embedding'):
    if t.has(name):
      break
  else:
    raise ValueError(f"{where} has no learned position embedding "
                     "'pos_embedding' (sincos2d position embeddings are not "
                     'stored in checkpoints and are not supported).')
  pe = t.take(name, (1, None, d))
  tokens = pe.shape[1]
  if tokens > 1 and round((tokens - 1)**0.5)**2 + 1 == tokens:
    if cls is None:
      raise ValueError(f'{where}: {name!r} has {tokens} = square + 1 entries '
                       "(a class-token entry) but there is no 'cls' token.")
    cls, pe = cls + pe[:, :1], pe[:, 1:]
    notes.append('class-token position embedding added to the class token.')
  grid = layout.square_grid(pe.shape[1], f'{where}: {name!r}')

  scanned = t.has('Transformer/encoderblock/LayerNorm_0/scale')
  mha, norm2, mlp = _block_names(t, scanned)
  stacked = {}

  def block_getter(i):
    if not scanned:
      return lambda name, shape: t.take(
          f'Transformer/encoderblock_{i}/{name}', shape)

    def get(name, shape):
      if name not in stacked:
        stacked[name] = t.take(f'Transformer/encoderblock/{name}',
                               (dims.depth,) + tuple(shape))
      return stacked[name][i]
    return get

  blocks = []
  for i in range(dims.depth):
    get = block_getter(i)
    attn = _attention(get, mha, dims)
    block = {f'norm/{k}': v for k, v in _norm(get, 'LayerNorm_0',
                                              dims).items()}
    block.update({k: v for k, v in attn.items() if not k.endswith('_out')})
    block['w_attn_out'], block['b_attn_out'] = attn['w_out'], attn['b_out']
    block.update({f'mlp_norm/{k}': v for k, v in _norm(get, norm2,
                                                       dims).items()})
    block.update(_mlp(get, mlp, dims))
    blocks.append(block)
  encoder_norm = _norm(t.take, 'Transformer/encoder_norm', dims)

  map_head = None
  head_prefix = ('MAPHead_0/' if t.has('MAPHead_0/probe') else
                 '' if t.has('probe') else None)
  if head_prefix is not None:
    map_head = {'probe': t.take(f'{head_prefix}probe', (1, 1, d))}
    map_head.update(_attention(
        t.take, f'{head_prefix}MultiHeadDotProductAttention_0', dims))
    map_head.update({f'norm/{k}': v for k, v in _norm(
        t.take, f'{head_prefix}LayerNorm_0', dims).items()})
    map_head.update(_mlp(t.take, f'{head_prefix}MlpBlock_0', dims))
  head = None
  if t.has('head/kernel'):
    kernel = t.take('head/kernel', (d, None))
    head = (kernel, t.take('head/bias', (kernel.shape[1],)))
  t.finish()
  if pooling is None:
    pooling = ('map' if map_head is not None else
               'cls' if cls is not None else 'gap')
  return layout.assemble(
      dims=dims, patch_w=patch_w, patch_b=patch_b, posemb=pe, grid=grid,
      cls=cls, blocks=blocks, encoder_norm=encoder_norm, map_head=map_head,
      head=head, pooling=pooling, gelu_approximate=gelu_approximate,
      image_size=image_size, resample_method='zoom',
      normalization=normalization, notes=notes)
