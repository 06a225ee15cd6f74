# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""A small pre-LN text transformer over byte tokens, the LiT text tower.

LiT (Zhai et al. 2022, arXiv 2111.07991) trains a text transformer against a
locked image tower; big_vision's `models/proj/image_text/text_transformer.py`
is the reference shape: token embedding + learned position embedding →
pre-LN transformer encoder → final LayerNorm → pooling → linear head.

Tokens are seqio `ByteVocabulary` ids (`vit22b_pax.data.captions.tokenize`):
0 = pad, 1 = EOS, 2 = UNK, 3..258 = bytes, hence `vocab_size=259`. Token id 0
marks padding: padded keys are masked out of attention (praxis
`StackedTransformer` paddings) and out of the pooling, so appending pad tokens
does not change the embedding.

Einsum letters: B batch, T tokens, D model_dims, E embed_dim.
"""

from __future__ import annotations

import jax.numpy as jnp
from praxis import base_layer
from praxis import pax_fiddle
from praxis import pytypes
from praxis.layers import activations
from praxis.layers import embedding_softmax
from praxis.layers import linears
from praxis.layers import normalizations
from praxis.layers import transformers

JTensor = pytypes.JTensor
LayerTpl = pax_fiddle.Config[base_layer.BaseLayer]
template_field = pax_fiddle.template_field

# seqio.ByteVocabulary: 3 special ids (pad 0, EOS 1, UNK 2) + 256 bytes.
BYTE_VOCAB_SIZE = 259
POOLINGS = ('mean', 'last')


class TextTower(base_layer.BaseLayer):
  """Byte-token text transformer mapping ids [B, T] to embeddings [B, E].

  Attributes:
    vocab_size: number of token ids (259 for seqio's ByteVocabulary).
    max_len: maximum sequence length T (size of the position table).
    model_dims: transformer width D.
    num_layers: number of transformer layers.
    num_heads: attention heads (D must be divisible by it).
    hidden_dims: MLP hidden width.
    embed_dim: output embedding width E (the shared image-text space).
    pooling: 'mean' (mean over non-pad tokens) or 'last' (the last non-pad
      token, e.g. EOS for right-padded captions).
    pad_id: token id marking padding.
    token_emb_tpl: token embedding (`Embedding`, child `token_emb`).
    pos_emb_tpl: learned position embedding (child `pos_emb`).
    transformer_tpl: praxis `StackedTransformer` (child `transformer`); its
      dims are set from the fields above, its layers are pre-LN.
    activation_tpl: MLP activation of every transformer layer (GELU, as the
      big_vision text transformer).
    ln_tpl: final LayerNorm on the token features (child `final_ln`).
    proj_tpl: linear projection D → E with bias (child `proj`).
  """

  vocab_size: int = BYTE_VOCAB_SIZE
  max_len: int = 64
  model_dims: int = 0
  num_layers: int = 0
  num_heads: int = 0
  hidden_dims: int = 0
  embed_dim: int = 0
  pooling: str = 'mean'
  pad_id: int = 0
  token_emb_tpl: LayerTpl = template_field(embedding_softmax.Embedding)
  pos_emb_tpl: LayerTpl = template_field(
      embedding_softmax.TrainablePositionalEmbedding)
  transformer_tpl: LayerTpl = template_field(transformers.StackedTransformer)
  activation_tpl: LayerTpl = template_field(activations.GELU)
  ln_tpl: LayerTpl = template_field(normalizations.LayerNorm)
  proj_tpl: LayerTpl = template_field(linears.FeedForward)

  def setup(self) -> None:
    for name in ('vocab_size', 'max_len', 'model_dims', 'num_layers',
                 'num_heads', 'hidden_dims', 'embed_dim'):
      if getattr(self, name) <= 0:
        raise ValueError(
            f'TextTower.{name} must be > 0, got {getattr(self, name)}.')
    if self.model_dims % self.num_heads:
      raise ValueError(f'model_dims={self.model_dims} must be divisible by '
                       f'num_heads={self.num_heads}.')
    if self.pooling not in POOLINGS:
      raise ValueError(
          f'pooling must be one of {POOLINGS}, got {self.pooling!r}.')

    token_emb_p = self.token_emb_tpl.clone().set(
        num_classes=self.vocab_size, input_dims=self.model_dims)
    self.create_child('token_emb', token_emb_p)
    pos_emb_p = self.pos_emb_tpl.clone().set(
        max_seq_length=self.max_len, embedding_dims=self.model_dims)
    self.create_child('pos_emb', pos_emb_p)

    transformer_p = self.transformer_tpl.clone().set(
        num_layers=self.num_layers, model_dims=self.model_dims,
        hidden_dims=self.hidden_dims, num_heads=self.num_heads,
        mask_self_attention=False)
    layer_p = transformer_p.transformer_layer_params_tpl
    layer_p.norm_policy = 'pre'
    layer_p.tr_fflayer_tpl.activation_tpl = self.activation_tpl.clone()
    self.create_child('transformer', transformer_p)

    self.create_child('final_ln', self.ln_tpl.clone().set(dim=self.model_dims))
    proj_p = self.proj_tpl.clone().set(
        input_dims=self.model_dims, output_dims=self.embed_dim, has_bias=True,
        activation_tpl=pax_fiddle.Config(activations.Identity))
    self.create_child('proj', proj_p)

  def __call__(self, ids: JTensor) -> JTensor:
    """Embeds right- or arbitrarily-padded token sequences.

    Args:
      ids: [B, T] int token ids, `pad_id` marks padding, T <= max_len.

    Returns:
      [B, E] text embeddings (not normalised). A sequence of only padding
      gets the projection of zero features (mean) or of token 0 (last).
    """
    if ids.ndim != 2:
      raise ValueError(f'ids must be [B, T], got shape {ids.shape}.')
    seq_len = ids.shape[1]
    if seq_len > self.max_len:
      raise ValueError(
          f'sequence length {seq_len} exceeds max_len={self.max_len}.')
    paddings = (ids == self.pad_id).astype(self.fprop_dtype)  # [B, T]
    x = self.token_emb(ids) + self.pos_emb(seq_length=seq_len)  # [B, T, D]
    x = self.transformer(x, paddings)
    x = self.final_ln(x)
    valid = 1.0 - paddings
    if self.pooling == 'mean':
      pooled = jnp.einsum('BTD,BT->BD', x, valid) / jnp.maximum(
          jnp.sum(valid, axis=1, keepdims=True), 1.0)
    else:  # 'last'
      positions = jnp.arange(seq_len)[jnp.newaxis, :]
      last = jnp.max(jnp.where(valid > 0, positions, 0), axis=1)  # [B]
      pooled = jnp.take_along_axis(x, last[:, None, None], axis=1)[:, 0]
    return self.proj(pooled)
