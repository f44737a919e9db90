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
    # prompts per mask-decoder call: its memory grows ~25 MiB per prompt, its time per
    # prompt does not shrink beyond 16 (docs/en/benchmarks.md)
    prompt_chunk_size=16,
    # 'auto': bf16 where the device computes it natively (CUDA Ampere+, a CPU with
    # AVX512-BF16 or AMX), else fp32; the choice is logged. Or 'fp32', 'fp16', 'bf16'.
    precision='auto',
    # SAM's image-encoder attention via scaled_dot_product_attention: equal within float
    # rounding, without holding the attention matrix (False: segment_anything's own;
    # HQ-SAM keeps its own, SAM 2 already uses it)
    efficient_attention=True,
    # torch.compile the mask decoder: ~50 s of compilation, then 0.35x the time per prompt
    # on CPU (docs/en/benchmarks.md); pays back after ~600 prompts
    compile_decoder=False,
    data_preprocessor=dict(type='SAMDataPreprocessor'))
