"""Install mmsamrs. Use ``bash tools/install.sh`` (see README): it builds mmcv with ops first."""
from pathlib import Path

from setuptools import find_packages, setup


def read_version() -> str:
    """Read ``__version__`` from mmsamrs/version.py without importing the package."""
    namespace: dict = {}
    exec((Path(__file__).parent / 'mmsamrs' / 'version.py').read_text(), namespace)
    return namespace['__version__']


setup(
    name='mmsamrs',
    version=read_version(),
    description='SAMRS for OpenMMLab: segmentation labels from remote-sensing detection '
    'datasets with Segment Anything, segmentation pre-training and fine-tuning',
    long_description=(Path(__file__).parent / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmsamrs', 'mmsamrs.*']),
    python_requires='>=3.10',
    install_requires=[
        'torch==2.13.0',
        'torchvision==0.28.0',
        'mmcv==2.0.1',
        'mmengine==0.10.7',
        'mmdet==3.1.0',
        'mmsegmentation==1.2.2',
        'mmrotate==1.0.0rc1',
        'segment-anything==1.0',
        'sam2==1.1.0',
        'segment-anything-hq==0.3',
        'timm',
        'opencv-python==4.11.0.86',
        'setuptools<81',
        'ftfy',
        'regex',
        'numpy',
        'pycocotools',
        'matplotlib',
        'rasterio',
        'shapely',
        'pyproj',
        'pyogrio',
    ],
    extras_require={'tests': ['pytest', 'ruff']},
    zip_safe=False,
)
