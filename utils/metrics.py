"""Pose metrics: MPJPE, P-MPJPE, N-MPJPE, MPJVE (3D, mm) and PCKh with its curve and AUC (2D, px).

All functions are vectorised over any leading dimensions and accept torch tensors or numpy arrays; the result has
the input's type. Computation is in torch (float64 for numpy input); numpy goes through a thin adapter.
"""
from __future__ import annotations

import functools

import numpy as np
import torch

from utils.skeletons import MPII_PCKH_GROUPS, MPII_PCKH_MEAN_JOINTS, with_root

PCKH_CURVE_THRESHOLDS = np.linspace(0.0, 0.5, 51)


def _accepts_numpy(fn):
    """Run a torch metric on numpy inputs too: numpy in (as float64 tensors) -> numpy out."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        numpy_in = any(isinstance(a, np.ndarray) for a in args)
        if numpy_in:
            args = tuple(torch.from_numpy(np.asarray(a, dtype=np.float64)) if isinstance(a, np.ndarray) else a
                         for a in args)
        out = fn(*args, **kwargs)
        return out.numpy() if numpy_in and isinstance(out, torch.Tensor) else out

    return wrapper


def _check_pair(pred: torch.Tensor, gt: torch.Tensor, dims: int = 3) -> None:
    assert pred.shape == gt.shape, f"prediction shape {tuple(pred.shape)} != ground truth {tuple(gt.shape)}"
    assert pred.shape[-1] == dims, f"expected (..., J, {dims}) joints, got {tuple(pred.shape)}"


@_accepts_numpy
def mpjpe(pred, gt):
    """Mean per-joint position error (Protocol #1). pred, gt: (..., J, 3) -> (...) mean Euclidean distance."""
    _check_pair(pred, gt)
    return torch.linalg.vector_norm(pred - gt, dim=-1).mean(-1)


@_accepts_numpy
def n_mpjpe(pred, gt):
    """MPJPE after scaling each prediction by the least-squares optimal factor. (..., J, 3) -> (...)."""
    _check_pair(pred, gt)
    scale = (pred * gt).sum((-2, -1), keepdim=True) / (pred * pred).sum((-2, -1), keepdim=True).clamp_min(1e-12)
    return mpjpe(scale * pred, gt)


@_accepts_numpy
def procrustes_align(pred, gt):
    """Similarity-align each pose of pred onto gt (rotation without reflection, scale, translation). (..., J, 3)."""
    _check_pair(pred, gt)
    mu_pred, mu_gt = pred.mean(-2, keepdim=True), gt.mean(-2, keepdim=True)
    x, y = pred - mu_pred, gt - mu_gt
    norm_x = torch.linalg.vector_norm(x, dim=(-2, -1), keepdim=True).clamp_min(1e-12)
    norm_y = torch.linalg.vector_norm(y, dim=(-2, -1), keepdim=True).clamp_min(1e-12)
    x, y = x / norm_x, y / norm_y
    u, s, vh = torch.linalg.svd(x.transpose(-2, -1) @ y)  # (..., 3, 3)
    # Fix reflections: flip the last singular direction where det(R) < 0.
    sign = torch.sign(torch.linalg.det(u @ vh)).unsqueeze(-1)  # (..., 1)
    flip = torch.cat([torch.ones_like(s[..., :2]), sign], dim=-1)
    rotation = u @ torch.diag_embed(flip) @ vh  # maps centred pred onto centred gt: x @ R
    scale = (s * flip).sum(-1)[..., None, None] * norm_y / norm_x
    return scale * (pred - mu_pred) @ rotation + mu_gt


@_accepts_numpy
def p_mpjpe(pred, gt):
    """MPJPE after per-frame similarity Procrustes alignment (Protocol #2). (..., J, 3) -> (...)."""
    return mpjpe(procrustes_align(pred, gt), gt)


@_accepts_numpy
def mpjve(pred, gt):
    """Mean per-joint velocity error: MPJPE of first differences over time. (..., T, J, 3) -> (..., T-1)."""
    _check_pair(pred, gt)
    assert pred.shape[-3] >= 2, f"need at least two frames along dim -3, got {tuple(pred.shape)}"
    return mpjpe(torch.diff(pred, dim=-3), torch.diff(gt, dim=-3))


def velocity_errors(pred: np.ndarray, gt: np.ndarray, sequence_index: np.ndarray,
                    frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MPJVE terms: (M,) mm between consecutive frames of each sequence and the (M,) row each belongs to (the later
    frame). pred, gt: (N, J, 3); sequence_index, frames: (N,)."""
    order = np.lexsort((frames, sequence_index))
    same_sequence = sequence_index[order][1:] == sequence_index[order][:-1]  # (N-1,)
    return mpjve(pred[order], gt[order])[same_sequence], order[1:][same_sequence]  # rows in time order: (N-1,)


def h36m_errors_mm(predicted_mm: torch.Tensor, truth_mm: torch.Tensor) -> dict[str, float]:
    """MPJPE and P-MPJPE in mm over all poses of a test set: (N, 16, 3) root-relative H36M16_3D (root left out),
    counted over 17 joints with the zero root put back, as published tables do."""
    predicted, truth = with_root(predicted_mm.double()), with_root(truth_mm.double())
    return {"mpjpe_mm": float(mpjpe(predicted, truth).mean()), "p_mpjpe_mm": float(p_mpjpe(predicted, truth).mean())}


def _pckh_inputs(pred, gt, visible, head_size):
    _check_pair(pred, gt, dims=2)
    assert visible.shape == pred.shape[:-1], f"visible {tuple(visible.shape)} != joints {tuple(pred.shape[:-1])}"
    assert head_size.shape == pred.shape[:-2], f"head_size {tuple(head_size.shape)} != samples {tuple(pred.shape[:-2])}"
    distance = torch.linalg.vector_norm(pred - gt, dim=-1) / head_size.unsqueeze(-1)  # (..., J)
    counted = (visible > 0).reshape(-1, pred.shape[-2])  # (N, J)
    return distance.reshape(-1, pred.shape[-2]), counted


@_accepts_numpy
def pckh_curve(pred, gt, visible, head_size, thresholds=PCKH_CURVE_THRESHOLDS):
    """PCKh per threshold and joint, percent. pred, gt: (..., J, 2) px; visible: (..., J) annotated (1) or not (0);
    head_size: (...) the normaliser, 0.6 x head-box diagonal, px. Returns (len(thresholds), J); NaN where a joint
    is never annotated. A joint is correct when its distance is below threshold x head_size."""
    distance, counted = _pckh_inputs(pred, gt, visible, head_size)
    thresholds = torch.as_tensor(np.asarray(thresholds, dtype=np.float64), dtype=distance.dtype)
    correct = (distance.unsqueeze(0) < thresholds[:, None, None]) & counted  # (T, N, J)
    return 100.0 * correct.sum(1).to(distance.dtype) / counted.sum(0).to(distance.dtype)


def pckh(pred, gt, visible, head_size, threshold: float = 0.5):
    """PCKh@threshold per joint, percent: (J,). Shapes as in `pckh_curve`."""
    return pckh_curve(pred, gt, visible, head_size, thresholds=[threshold])[0]


def pckh_auc(curve, thresholds=PCKH_CURVE_THRESHOLDS):
    """Area under PCKh(t) for t in [thresholds[0], thresholds[-1]], normalised to percent. curve: (T, ...) -> (...)."""
    t = np.asarray(thresholds, dtype=np.float64)
    values = curve.numpy() if isinstance(curve, torch.Tensor) else np.asarray(curve)
    return np.trapezoid(values, t, axis=0) / (t[-1] - t[0])


def mpii_pckh_table(pred, gt, visible, head_size) -> tuple[dict, np.ndarray]:
    """The standard MPII table and the PCKh curve (51, J) over PCKH_CURVE_THRESHOLDS.

    Table: Head, Shoulder, ..., Ankle at 0.5 (groups average left and right), and over the 14 joints (pelvis and
    thorax excluded) both means in use, at 0.5 and at 0.1:
      Mean, Mean@0.1                    the unweighted mean of the 14 per-joint values, as pytorch-pose's
                                        evaluation scripts (eval_PCKh.py / eval_PCKh.m) compute it;
      Mean_weighted, Mean@0.1_weighted  each joint weighted by its number of annotations (HRNet, MMPose).
    AUC is the area under the unweighted mean's PCKh(t) curve, t in [0, 0.5] (AUC_weighted: the weighted mean's).
    Values in percent, rounded to two decimals. Joints never annotated are left out of both means.
    """
    pred, gt, visible, head_size = (np.asarray(a, dtype=np.float64) for a in (pred, gt, visible, head_size))
    curve = pckh_curve(pred, gt, visible, head_size)  # (51, 16)
    mean_joints = list(MPII_PCKH_MEAN_JOINTS)
    counts = (visible > 0).reshape(-1, pred.shape[-2]).sum(0)[mean_joints]  # (14,)
    unweighted = np.nanmean(curve[:, mean_joints], axis=1)  # (51,)
    weighted = np.nansum(curve[:, mean_joints] * counts, axis=1) / max(counts.sum(), 1)  # (51,)
    at_half = int(np.argmin(np.abs(PCKH_CURVE_THRESHOLDS - 0.5)))
    at_tenth = int(np.argmin(np.abs(PCKH_CURVE_THRESHOLDS - 0.1)))
    table = {group: round(float(np.nanmean(curve[at_half, list(joints)])), 2)
             for group, joints in MPII_PCKH_GROUPS.items()}
    table["Mean"] = round(float(unweighted[at_half]), 2)
    table["Mean_weighted"] = round(float(weighted[at_half]), 2)
    table["Mean@0.1"] = round(float(unweighted[at_tenth]), 2)
    table["Mean@0.1_weighted"] = round(float(weighted[at_tenth]), 2)
    table["AUC"] = round(float(pckh_auc(unweighted)), 2)
    table["AUC_weighted"] = round(float(pckh_auc(weighted)), 2)
    return table, curve
