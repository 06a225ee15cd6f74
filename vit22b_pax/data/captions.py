# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""Captions, zero-shot prompts and byte-level tokens for LiT.

Captions describe a procedural image ('a striped red triangle'); prompts turn
class names into zero-shot texts ('a photo of a triangle.'). Tokens are
`seqio.ByteVocabulary` ids (UTF-8 byte + 3; 0 = pad, 1 = EOS, 2 = UNK).
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np

from vit22b_pax.data import procedural

PROMPT_TEMPLATES = (
    'a photo of a {shape}.',
    'a {shape}.',
    'a drawing of a {shape}.',
    'a picture of a {shape}.',
    'a {shape} shape.',
    'a rendering of a {shape}.',
)
PAD_ID = 0
EOS_ID = 1


@functools.cache
def vocabulary():
  """The shared `seqio.ByteVocabulary` (imported lazily: seqio loads TF)."""
  import seqio  # pylint: disable=g-import-not-at-top
  return seqio.ByteVocabulary()


def texture_adjective(texture: str) -> str:
  """'stripes' -> 'striped'; unknown textures raise ValueError."""
  if texture not in procedural.TEXTURES:
    raise ValueError(f'Unknown texture={texture!r}; expected one of '
                     f'{procedural.TEXTURES}.')
  return procedural.TEXTURE_ADJECTIVES[procedural.TEXTURES.index(texture)]


def _with_article(phrase: str) -> str:
  return ('an ' if phrase[:1] in 'aeiou' else 'a ') + phrase


def caption(shape: str, texture: str, color: str) -> str:
  """Caption of one image, e.g. caption('triangle', 'stripes', 'red')."""
  return _with_article(f'{texture_adjective(texture)} {color} {shape}')


def captions_for(names: Sequence[dict[str, str]]) -> list[str]:
  """Captions for `ShapeTextureGenerator.names(...)` entries."""
  return [caption(n['shape'], n['texture'], n['color']) for n in names]


def zero_shot_prompts(class_names: Sequence[str],
                      templates: Sequence[str] = PROMPT_TEMPLATES
                      ) -> list[list[str]]:
  """[num_classes][num_templates] prompt texts (embeddings get averaged)."""
  for t in templates:
    if '{shape}' not in t:
      raise ValueError(f'Prompt template {t!r} has no {{shape}} placeholder.')
  return [[t.format(shape=c) for t in templates] for c in class_names]


def tokenize(texts: Sequence[str], length: int,
             add_eos: bool = False) -> np.ndarray:
  """Byte-level token ids [B, length] int32: truncated, right-padded with 0.

  With add_eos the last kept token is EOS (1), also when truncating.
  """
  if length <= 0:
    raise ValueError(f'length={length} must be positive.')
  if isinstance(texts, str):
    raise ValueError('texts must be a sequence of strings, not a str.')
  vocab = vocabulary()
  out = np.full((len(texts), length), PAD_ID, np.int32)
  for i, text in enumerate(texts):
    ids = list(vocab.encode(text))
    if add_eos:
      ids = ids[:length - 1] + [EOS_ID]
    ids = ids[:length]
    out[i, :len(ids)] = ids
  return out


def detokenize(ids: np.ndarray) -> list[str]:
  """Inverse of `tokenize` (stops at EOS, drops padding)."""
  vocab = vocabulary()
  texts = []
  for row in np.asarray(ids):
    row = [int(t) for t in row]
    if EOS_ID in row:
      row = row[:row.index(EOS_ID)]
    texts.append(vocab.decode([t for t in row if t != PAD_ID]))
  return texts
