# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Classifier head on pooled features (big_vision `head`).

big_vision initialises the head kernel to zero (`head_zeroinit=True`) and,
for sigmoid losses on JFT-style multi-label data, the bias to -10
(`init_head_bias`), so initial probabilities are ~4.5e-5 per class.

Einsum letters: B batch, D feature dims, K classes.
"""

from __future__ import annotations

from praxis import base_layer
from praxis import pytypes

JTensor = pytypes.JTensor
SplitDimsMapping = pytypes.SplitDimsMapping
WeightHParams = base_layer.WeightHParams
WeightInit = base_layer.WeightInit


class ClassifierHead(base_layer.BaseLayer):
  """Linear classifier: logits = x @ w + b.

  Attributes:
    input_dims: feature dims D.
    num_classes: classes K.
    zero_init: initialise the kernel to zero (big_vision default); else
      Gaussian with std 1/sqrt(D).
    bias_init: constant bias initialisation (e.g. -10 for sigmoid losses).
  """

  input_dims: int = 0
  num_classes: int = 0
  zero_init: bool = True
  bias_init: float = 0.0

  class WeightSharding(base_layer.BaseLayer.WeightSharding):
    """Weight sharding.

    Attributes:
      dk: kernel [D, K] (the bias follows K).
    """
    dk: SplitDimsMapping = None

  def setup(self) -> None:
    d, k = self.input_dims, self.num_classes
    if d <= 0 or k <= 0:
      raise ValueError(f'ClassifierHead needs positive input_dims and '
                       f'num_classes; got {d} and {k}.')
    wp = self.weight_split_dims_mapping
    init = (WeightInit.Constant(0.0) if self.zero_init
            else WeightInit.Gaussian(d**-0.5))
    self.create_variable('w', WeightHParams(
        shape=[d, k], init=init, mesh_shape=self.mesh_shape,
        tensor_split_dims_mapping=wp.dk))
    self.create_variable('b', WeightHParams(
        shape=[k], init=WeightInit.Constant(self.bias_init),
        mesh_shape=self.mesh_shape,
        tensor_split_dims_mapping=None if wp.dk is None else (wp.dk[1],)))

  def __call__(self, inputs: JTensor) -> JTensor:
    """Computes logits.

    Args:
      inputs: [B, D] features.

    Returns:
      [B, K] logits.
    """
    if inputs.shape[-1] != self.input_dims:
      raise ValueError(f'ClassifierHead expects {self.input_dims} input '
                       f'dims, got {inputs.shape[-1]} (inputs '
                       f'{tuple(inputs.shape)}).')
    return inputs @ self.theta.w + self.theta.b
