# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""timm / Hugging Face .safetensors import: logits equal timm's forward."""

import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tests.weights import import_util as iu
from tests.weights import reference as ref
from vit22b_pax.weights import layout
from vit22b_pax.weights import timm

K = 5
IMAGENET = (np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225]))


def _params(seed, pooling, **kwargs):
  return ref.timm_params(
      np.random.default_rng(seed), width=iu.WIDTH, depth=iu.DEPTH,
      mlp=iu.MLP, heads=iu.HEADS, patch=iu.PATCH, grid=2, classes=K,
      pooling=pooling, **kwargs)


def _save(tensors):
  path = os.path.join(tempfile.mkdtemp(), 'model.safetensors')
  ref.write_safetensors(path, tensors, {'format': 'pt'})
  return path


def _dims():
  return layout.Dims(iu.WIDTH, iu.DEPTH, iu.MLP, iu.HEADS, iu.PATCH)


class TimmImportTest(parameterized.TestCase):

  @parameterized.named_parameters(
      # Class token with its posemb entry, layer scale, ImageNet mean/std,
      # resampled 2x2 -> 3x3 the way timm does (bicubic, antialias).
      ('cls_layer_scale_imagenet', 'token', {'layer_scale': True},
       'imagenet', 24, False),
      # MAP (attn_pool, SigLIP in timm), no class token.
      ('map', 'map', {}, 'inception', 16, False),
      # Global average pooling without fc_norm, no qkv bias.
      ('gap_no_qkv_bias', 'avg', {'qkv_bias': False}, 'inception', 24,
       False),
      # Class token without a posemb entry (no_embed_class, DeiT-3).
      ('cls_no_embed_class', 'token', {'cls_posemb': False}, 'imagenet', 16,
       False),
      # Hugging Face transformers' ViTForImageClassification names.
      ('hf_transformers', 'token', {}, 'inception', 24, True),
  )
  def test_logits_match_timm(self, pooling, kwargs, norm, size, hf):
    params = _params(0, pooling, **kwargs)
    tensors = ref.timm_to_hf(params, iu.DEPTH) if hf else params
    rc, out, err, job = iu.run_import(
        '--format', 'timm', '--src', _save(tensors), '--image_size',
        str(size), '--normalization', norm)
    self.assertEqual(rc, 0, err)
    self.assertIn('exact GELU', out)
    want_pool = {'token': 'cls', 'map': 'map', 'avg': 'gap'}[pooling]
    self.assertIn(f'pooling {want_pool}', out)
    if size != 16:
      self.assertIn('resampled 2x2 -> 3x3 (bicubic)', out)
    images = iu.random_images(2, size)
    source_images = images
    if norm == 'imagenet':  # What timm's transforms feed the model.
      mean, std = IMAGENET
      source_images = ((images + 1) / 2 - mean) / std
    want = ref.timm_forward(params, source_images, depth=iu.DEPTH,
                            heads=iu.HEADS, pooling=pooling)
    iu.assert_logits_close(self, iu.imported_logits(job, images), want)


class TimmErrorsTest(absltest.TestCase):

  def _read(self, tensors, **kwargs):
    return timm.read(_save(tensors), _dims(), 'ViT-test',
                     normalization=kwargs.pop('normalization', 'inception'),
                     **kwargs)

  def test_normalization_is_required(self):
    with self.assertRaisesRegex(ValueError, 'do not record their input '
                                'normalization'):
      self._read(_params(0, 'token'), normalization=None)
    with self.assertRaisesRegex(ValueError, 'Unknown input normalization'):
      self._read(_params(0, 'token'), normalization='0.5,0.5/1,1,1')

  def test_missing_and_misshapen_tensors(self):
    params = _params(0, 'token')
    del params['blocks.1.norm2.bias']
    with self.assertRaisesRegex(ValueError, r"no tensor 'blocks.1.norm2.bias' "
                                r'\(expected shape \(32,\)'):
      self._read(params)
    params = _params(0, 'token')
    params['blocks.0.mlp.fc1.weight'] = np.zeros((48, 32), np.float32)
    with self.assertRaisesRegex(
        ValueError, r"'blocks.0.mlp.fc1.weight' has shape \(48, 32\) but "
        r'ViT-test .* needs \(64, 32\)'):
      self._read(params)
    hf = ref.timm_to_hf(_params(0, 'token'), iu.DEPTH)
    hf['vit.encoder.layer.0.attention.attention.key.weight'] = np.zeros(
        (32, 16), np.float32)
    with self.assertRaisesRegex(
        ValueError, r"Hugging Face .* 'vit.encoder.layer.0.attention."
        r"attention.key.weight' has shape \(32, 16\) .* needs \(32, 32\)"):
      self._read(hf)

  def test_unsupported_parts_are_refused(self):
    params = _params(0, 'avg')
    params['fc_norm.weight'] = params.pop('norm.weight')
    params['fc_norm.bias'] = params.pop('norm.bias')
    with self.assertRaisesRegex(ValueError, 'fc_norm'):
      self._read(params)
    params = _params(0, 'token')
    params['reg_token'] = np.zeros((1, 4, 32), np.float32)
    with self.assertRaisesRegex(ValueError, 'register tokens'):
      self._read(params)
    params = _params(0, 'token')
    params['blocks.0.attn.q_norm.weight'] = np.ones((16,), np.float32)
    with self.assertRaisesRegex(ValueError, 'QK-norm'):
      self._read(params)
    params = _params(0, 'map')
    params['attn_pool.pos_embed'] = np.ones((1, 4, 32), np.float32)
    with self.assertRaisesRegex(ValueError, r"no place for: 'attn_pool."
                                r"pos_embed'"):
      self._read(params)

  def test_cls_pooling_needs_a_class_token(self):
    with self.assertRaisesRegex(ValueError, 'needs a class token'):
      self._read(_params(0, 'avg'), pooling='cls')


if __name__ == '__main__':
  absltest.main()
