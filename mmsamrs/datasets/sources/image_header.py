"""Image sizes read from the file header, without decoding the pixels (DOTA scenes reach
20,000 x 20,000 pixels); an unreadable header is a ``bad_image`` problem.
"""
from typing import Tuple

from PIL import Image

from .problems import AnnotationError

Size = Tuple[int, int]


def read_image_size(path: str) -> Size:
    """Return ``(width, height)`` from the image header, without decoding the pixels."""
    max_pixels = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None  # huge DOTA scenes are fine: nothing is decoded
    try:
        with Image.open(path) as img:
            return img.size
    except (OSError, ValueError) as err:
        raise AnnotationError('bad_image', f'cannot read the size of {path}: {err}')
    finally:
        Image.MAX_IMAGE_PIXELS = max_pixels
