"""SAMGenerator.embed / decode: one encoder pass, several prompt sets (the prompt study)."""
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate


def test_one_embedding_serves_several_prompt_sets(tiny_model, sam_testing):
    boxes = sam_testing.BOXES[:2]
    settings = ('H-Box', 'CP+RH-Box+RH-Box-M')
    samples = {s: [sam_testing.make_sample((200, 320), prompts=s, boxes=boxes)]
               for s in settings}
    failed = sam_testing.make_sample((1, 1), boxes=[], seed=9, load_error='bad image')
    calls = []
    handle = tiny_model.sam.image_encoder.register_forward_hook(
        lambda module, args, output: calls.append(len(args[0])))
    try:
        data = tiny_model.data_preprocessor(pseudo_collate(samples['H-Box'] + [failed]))
        embeddings = tiny_model.embed(data['inputs'], data['data_samples'])
        decoded = {s: tiny_model.decode(embeddings, [x['data_samples'] for x in samples[s]]
                                        + [failed['data_samples']]) for s in settings}
        assert calls == [1]  # the good image, once, for both settings
        assert embeddings[1] is None and decoded['H-Box'][1]['error'] == 'bad image'
        # the second setting decoded from the shared embedding equals its own test_step
        (want, ) = tiny_model.test_step(pseudo_collate(samples[settings[1]]))
        got = decoded[settings[1]][0]
        assert np.array_equal(got['scores'], want['scores'])
        assert np.array_equal(sam_testing.paste(got), sam_testing.paste(want))
        assert not np.array_equal(decoded['H-Box'][0]['scores'],
                                  decoded['CP+RH-Box+RH-Box-M'][0]['scores'])
    finally:
        handle.remove()
    with pytest.raises(ValueError, match='1 embeddings for 2 samples'):
        tiny_model.decode([torch.zeros(1)], [failed['data_samples']] * 2)
