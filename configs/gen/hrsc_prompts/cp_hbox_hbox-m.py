_base_ = './_base_hrsc_prompts.py'
_base_.test_dataloader.dataset.pipeline[2].prompts = 'CP+H-Box+H-Box-M'
