"""Pictures for TensorBoard: network inputs with predicted joints and the heatmaps' maximum over joints."""
from __future__ import annotations

import cv2
import numpy as np
import torch

from utils.skeletons import MPII

SIDE_COLOURS = {"left": (40, 200, 40), "right": (220, 50, 50), "centre": (240, 200, 40)}


def prediction_picture(images: torch.Tensor, heatmaps: torch.Tensor, joints_hm: torch.Tensor,
                       stride: int = 4) -> np.ndarray:
    """images (B, 3, R, R) uint8; heatmaps (B, J, R/s, R/s); joints_hm (B, J, 2) -> (2R, B*R, 3) uint8:
    top row the inputs with the skeleton drawn, bottom row the heatmaps' maximum over joints on the input."""
    inputs = images.permute(0, 2, 3, 1).cpu().numpy().astype(np.uint8)
    res = inputs.shape[1]
    peak = heatmaps.float().amax(1, keepdim=True).clamp(0, 1)  # (B, 1, h, w)
    peak = torch.nn.functional.interpolate(peak, size=(res, res), mode="bilinear", align_corners=False)
    peak = (peak[:, 0].cpu().numpy() * 255).astype(np.uint8)
    points = joints_hm.cpu().numpy() * stride + (stride - 1) / 2.0
    tops, bottoms = [], []
    for image, heat, joints in zip(inputs, peak, points):
        top = np.ascontiguousarray(image)
        for child, parent in enumerate(MPII.parents):
            if parent >= 0:
                a, b = (tuple(int(round(v)) for v in joints[j]) for j in (parent, child))
                cv2.line(top, a, b, SIDE_COLOURS[MPII.side_of(child)], max(1, res // 128), cv2.LINE_AA)
        tops.append(top)
        colour = cv2.applyColorMap(heat, cv2.COLORMAP_JET)[..., ::-1]
        bottoms.append(cv2.addWeighted(image, 0.4, colour, 0.6, 0.0))
    return np.concatenate([np.concatenate(tops, 1), np.concatenate(bottoms, 1)], 0)
