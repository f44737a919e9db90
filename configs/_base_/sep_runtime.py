# Runtime of segmentation pre-training: default_runtime.py with mmsamrs' SEPRunner, which
# fills in the model's heads and the datasets' sets from the config's `samrs_sets` when it
# is built (so a child config or --cfg-options samrs_sets="['SOTA','SIOR']" changes them all).
_base_ = ['./default_runtime.py']
runner_type = 'mmsamrs.SEPRunner'
# a set absent from a batch leaves its classifiers without gradient (MultiHeadEncoderDecoder)
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
