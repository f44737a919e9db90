# SAM ViT-H, as used by the SAMRS paper. The official weights are downloaded once into
# the torch hub cache; set model.checkpoint to a local path on machines without internet.
model = dict(
    type='SAMGenerator',
    # ViT-H's encoder sizes. Another model is one option, model.arch=NAME on the command
    # line: SAM vit_b / vit_l / vit_h, HQ-SAM hq_vit_b / hq_vit_l / hq_vit_h, SAM 2.1
    # sam2.1_hiera_t / sam2.1_hiera_s / sam2.1_hiera_b+ / sam2.1_hiera_l (prompts and
    # preprocessing follow the model's input frame); in a child config
    # model = dict(arch='sam2.1_hiera_l'), or arch=dict(_delete_=True, ...) for sizes.
    arch=dict(embed_dim=1280, depth=32, num_heads=16, global_attn_indexes=(7, 15, 23, 31)),
    # 'official': the released weights of arch (sam_vit_h_4b8939.pth,
    # sam2.1_hiera_large.pt, sam_hq_vit_h.pth, ...); a local file; or None for random
    # weights (masks meaningless, a warning says so; tests and demos only)
    checkpoint='official',
    # prompts per mask-decoder call: bounds the decoder's memory; on a CPU 4 per call was
    # the fastest (tensors stay in cache); on a GPU use 64 (docs/en/benchmarks.md)
    prompt_chunk_size=4,
    # 'auto': bf16 where the device computes it natively (CUDA Ampere+, a CPU with
    # AVX512-BF16 or AMX), else fp32; the choice is logged. Or 'fp32', 'fp16', 'bf16'.
    precision='auto',
    # SAM's image-encoder attention via scaled_dot_product_attention: equal within float
    # rounding, without holding the attention matrix (False: segment_anything's own;
    # HQ-SAM keeps its own, SAM 2 already uses it)
    efficient_attention=True,
    # SAM's mask decoder for box and point prompts without per-prompt copies of the image
    # embedding: the same function within float rounding, ~3x less time per prompt on CPU
    # (False: segment_anything's own; HQ-SAM and SAM 2 keep their own)
    efficient_decoder=True,
    # torch.compile the mask decoder: tens of seconds of compilation once per process
    # (docs/en/benchmarks.md)
    compile_decoder=False,
    data_preprocessor=dict(type='SAMDataPreprocessor'))
