# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Few-shot programs added to recipes."""

from absl.testing import absltest

from fiddle_configs import fewshot
from fiddle_configs import pretrain
from vit22b_pax.runtime import fewshot_program


class FewshotRecipeTest(absltest.TestCase):

  def test_pretrain_with_fewshot(self):
    cfg = fewshot.pretrain('tiny', fewshot=('procedural',),
                           fewshot_pool_examples=300, fewshot_shots=(1, 5),
                           steps=100)
    base = pretrain.pretrain('tiny', steps=100)
    self.assertEqual(cfg.task, base.task)
    (prog,) = cfg.extra_eval_programs
    self.assertIs(prog.cls, fewshot_program.FewshotProgram)
    self.assertEqual((prog.data_name, prog.num_classes, prog.shots,
                      prog.num_seeds), ('procedural', 10, (1, 5), 3))
    self.assertEqual((prog.pool_input.num_examples,
                      prog.pool_input.image_size,
                      prog.pool_input.batch_size), (300, 32, 64))
    self.assertEqual(prog.test_input.name, 'fewshot_procedural')
    # big_vision's protocol by default: l2 fixed at 2^10.
    self.assertEqual(prog.l2_selection, 'fixed')
    held = fewshot.pretrain('tiny', fewshot_l2_selection='held_out')
    self.assertEqual(held.extra_eval_programs[0].l2_selection, 'held_out')

  def test_with_fewshot_on_any_recipe(self):
    cfg = fewshot.with_fewshot(pretrain.pretrain('smoke'),
                               'procedural,fashion_mnist', batch_size=8)
    self.assertEqual([p.data_name for p in cfg.extra_eval_programs],
                     ['procedural', 'fashion_mnist'])
    self.assertEqual(cfg.extra_eval_programs[1].test_input.image_size, 16)
    with self.assertRaisesRegex(ValueError, "Unknown few-shot data set 'x'"):
      fewshot.with_fewshot(pretrain.pretrain('smoke'), 'x')


if __name__ == '__main__':
  absltest.main()
