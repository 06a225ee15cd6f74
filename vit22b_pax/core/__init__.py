# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Pure-JAX core of vit22b_pax: importable without praxis, paxml or flax.

`block` (the ViT-22B block as plain functions), `segments` (splits with a
concatenating gradient), `tensor_parallel` (collective einsum planning and
shard_map wrappers), `collective_matmul` (the ring all-gather /
reduce-scatter matmuls), `hlo` (compiled-HLO analysis), `posemb`
(position-embedding resampling, numpy) and `compat` (the few APIs that
moved between jax 0.4.26 and current jax).
"""
