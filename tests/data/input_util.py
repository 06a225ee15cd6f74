# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Shared helper of the input tests."""


def read_all(inp):
  """Every batch of a finite (evaluation) input, until StopIteration."""
  batches = []
  while True:
    try:
      batches.append(inp.get_next())
    except StopIteration:
      return batches
