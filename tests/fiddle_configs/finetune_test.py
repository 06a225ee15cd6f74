# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The fine-tuning and linear-probe recipes (configs only, no training)."""

from absl.testing import absltest

from fiddle_configs import finetune


class FinetuneRecipeTest(absltest.TestCase):

  def test_probe_trains_the_head_only_and_counts_so(self):
    probe = finetune.linear_probe(size='smoke', pretrain_dir='/tmp/none')
    self.assertEqual(
        list(probe.task.train.learner.bprop_variable_inclusion),
        [r'.*softmax.*'])
    # The MFU summaries count a frozen encoder's forward pass only.
    self.assertTrue(probe.train_program.frozen_encoder)

  def test_finetune_trains_everything(self):
    ft = finetune.finetune(size='smoke', pretrain_dir='/tmp/none')
    self.assertFalse(ft.task.train.learner.bprop_variable_inclusion)
    self.assertFalse(ft.train_program.frozen_encoder)


if __name__ == '__main__':
  absltest.main()
