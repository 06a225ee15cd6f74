# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Public ViT weights in and out: big_vision / timm readers, the mapping into
our encoder's standard-ViT mode, the paxml checkpoint writer and the restored
classifier as a pure function (position-embedding resampling is
`core.posemb`, shared with `runtime.posemb_warm_start`)."""
