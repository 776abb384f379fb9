"""Image I/O and warping for the data pipeline: fast JPEG decoding at reduced size, one affine warp per sample."""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import cv2
import numpy as np

from utils.errors import InputError
from utils.validation import check_image_file, check_image_pixels

REDUCED_READ_FLAGS = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
                      8: cv2.IMREAD_REDUCED_COLOR_8}


def read_image(path: Path, reduction: int = 1) -> np.ndarray | None:
    """RGB uint8 (H, W, 3), decoded at 1/reduction size (JPEG DCT scaling: much faster); None if missing or
    unreadable. A FIFO or folder in its place, or an image above `MAX_IMAGE_PIXELS`, is an InputError."""
    check_image_file(path)  # before opening: reading a FIFO would block forever
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError:
        return None
    if not len(data):
        return None
    size = header_size(data, path)
    if size is not None:
        check_image_pixels(*size, path)
    image = cv2.imdecode(data, REDUCED_READ_FLAGS[reduction])
    return None if image is None else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def header_size(data: np.ndarray, path: Path) -> tuple[int, int] | None:
    """(width, height) of encoded image bytes from the header alone (PIL, nothing decoded), or None; PIL's own
    decompression-bomb refusal becomes an InputError naming `path`."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the caller checks the size
            with Image.open(io.BytesIO(data.tobytes())) as image:
                return image.size
    except Image.DecompressionBombError as error:
        raise InputError(f"{path}: {str(error).rstrip('.')}; downscale it first") from error
    except Exception:  # not an image PIL knows: OpenCV decides
        return None


def jpeg_reduction(box_px: float, output_res: int) -> int:
    """The largest JPEG reduction (1, 2, 4, 8) that keeps at least `output_res` px across the box."""
    ratio = box_px / output_res
    return max([k for k in REDUCED_READ_FLAGS if k <= ratio], default=1)


def warp_image(source: np.ndarray, matrix: np.ndarray, output_res: int) -> np.ndarray:
    """One bilinear affine warp of an RGB uint8 (H, W, 3) image into (R, R, 3); black outside the source.
    matrix: (2, 3) source px -> output px. (OpenCV warps 4-channel images about twice as fast as 3-channel
    ones, more than the two channel conversions cost.)"""
    padded = cv2.cvtColor(source, cv2.COLOR_RGB2RGBA)
    warped = cv2.warpAffine(padded, matrix, (output_res, output_res), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    return cv2.cvtColor(warped, cv2.COLOR_RGBA2RGB)
