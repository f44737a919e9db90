# Augmentations of fine-tuning shared by Potsdam and iSAID (the official code's): random
# scaling 0.5-2 with probability 0.5 and a random crop (each dataset's crop size), then
# H/V flips and 90-degree rotations; the converted crops are evaluated whole, as they are.
finetune_augmentations = [
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='RandomRotate90', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCheckedAnnotations'),
    dict(type='PackSegInputs')
]
