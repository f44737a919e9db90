# SAM ViT-H, as used by the SAMRS paper. The official weights are downloaded once into
# the torch hub cache; set model.checkpoint to a local path on machines without internet.
model = dict(
    type='SAMGenerator',
    arch='vit_h',
    checkpoint='https://dl.fbaipublicfiles.com/segment_anything/sam_vit_h_4b8939.pth',
    prompt_chunk_size=64,
    precision='fp32',
    data_preprocessor=dict(type='SAMDataPreprocessor'))
