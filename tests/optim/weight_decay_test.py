# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Decay rules and the optimizer base both vit22b_pax optimizers share."""

from absl.testing import absltest
from praxis import base_hyperparams
from praxis import pax_fiddle
from praxis import schedules

from vit22b_pax.optim import adafactor
from vit22b_pax.optim import adamw
from vit22b_pax.optim import weight_decay as wd


class _Probe(wd.DecoupledDecayOptimizer):
  """A minimal subclass: one own field check."""
  gamma: float = 1.0

  def field_checks(self):
    return (('gamma', self.gamma > 0, '> 0'),)

  def _get_raw_grad_transformation(self, lr):
    raise NotImplementedError


def _make(cls, **kwargs):
  return base_hyperparams.instantiate(pax_fiddle.Config(
      cls, lr_schedule=pax_fiddle.Config(schedules.Constant), **kwargs))


class RulesTest(absltest.TestCase):

  def test_rate_for_by_hand(self):
    rules = dict(body=0.01, head=3.0, head_regex=wd.DEFAULT_HEAD_REGEX,
                 exclusions=wd.DEFAULT_DECAY_EXCLUSIONS)
    for name, want in (('params/softmax/logits_ffn/linear/w', 3.0),
                       ('params/softmax/logits_ffn/bias/b', 0.0),
                       ('params/network/block/w_qkv', 0.01),
                       ('params/network/block/b_mlp_in', 0.0),
                       ('params/network/map_head/w', 0.01),
                       ('params/network/pos_emb', 0.0),
                       ('params/network/ln/scale', 0.0)):
      self.assertEqual(wd.rate_for(name, **rules), want, name)


class BaseTest(absltest.TestCase):

  def test_both_optimizers_share_the_base(self):
    for cls in (adafactor.ViT22BAdafactor, adamw.ViT22BAdamW):
      self.assertTrue(issubclass(cls, wd.DecoupledDecayOptimizer))
      self.assertNotIn('weight_decay_rate', vars(cls))
    self.assertEqual((_make(adafactor.ViT22BAdafactor).weight_decay,
                      _make(adamw.ViT22BAdamW).weight_decay), (0.01, 0.0))

  def test_checks_name_the_subclass(self):
    opt = _make(_Probe, weight_decay=0.5, head_weight_decay=2.0)
    self.assertEqual(opt.weight_decay_rate('params/head/w'), 2.0)
    self.assertEqual(opt.weight_decay_rate('params/body/w'), 0.5)
    for kwargs, message in (
        (dict(gamma=0.0), r'_Probe\.gamma=0\.0: expected > 0'),
        (dict(weight_decay=-1.0), r'_Probe\.weight_decay=-1\.0: expected'),
        (dict(decoupled_weight_decay=0.1),
         r'_Probe\.decoupled_weight_decay=0\.1: expected None'),
        (dict(head_regex='(x'), r'_Probe\.head_regex')):
      with self.assertRaisesRegex(ValueError, message):
        _make(_Probe, **kwargs)
    with self.assertRaisesRegex(ValueError, r'_Probe\.lr_schedule is None'):
      base_hyperparams.instantiate(pax_fiddle.Config(_Probe))


if __name__ == '__main__':
  absltest.main()
