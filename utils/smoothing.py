"""Temporal smoothing of pose trajectories (2D px or 3D mm) along the time axis, for video: per-frame estimates
jitter, and a low-pass filter trades that jitter for a little lag.

- savgol: Savitzky-Golay (scipy.signal.savgol_filter), a local polynomial fit over a centred window: offline,
  no lag on smooth motion; `window` frames (odd), polynomial `order`.
- one_euro: the One-Euro filter (Casiez et al., CHI 2012), causal: an exponential moving average whose cut-off
  rises with speed (`min_cutoff` Hz at rest, + `beta` x speed), so slow motion is smoothed and fast motion follows.
Both act on (T, ...) arrays, every trailing element an independent signal; vectorised over them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import savgol_filter

SMOOTHERS = ("none", "savgol", "one_euro")


@dataclass(frozen=True)
class SmoothingSettings:
    method: str = "none"
    window: int = 9  # savgol: frames (odd)
    order: int = 2  # savgol: polynomial order
    min_cutoff_hz: float = 1.0  # one_euro
    beta: float = 0.01  # one_euro: cut-off increase (Hz) per unit of speed (px / s or mm / s)
    derivative_cutoff_hz: float = 1.0  # one_euro


def savgol(trajectory: np.ndarray, window: int = 9, order: int = 2) -> np.ndarray:
    """Savitzky-Golay along axis 0 of (T, ...); the window shrinks (odd, > order) for short sequences."""
    length = trajectory.shape[0]
    window = min(window, length if length % 2 else length - 1)
    if window <= order:
        return trajectory.copy()
    return savgol_filter(trajectory, window, order, axis=0, mode="interp")


def _alpha(cutoff_hz: np.ndarray | float, fps: float) -> np.ndarray:
    tau = 1.0 / (2 * np.pi * np.asarray(cutoff_hz))
    return 1.0 / (1.0 + tau * fps)


def one_euro(trajectory: np.ndarray, fps: float, min_cutoff_hz: float = 1.0, beta: float = 0.05,
             derivative_cutoff_hz: float = 1.0) -> np.ndarray:
    """The One-Euro filter along axis 0 of (T, ...) sampled at `fps` frames per second (causal, one pass)."""
    trajectory = np.asarray(trajectory, dtype=np.float64)
    smoothed = np.empty_like(trajectory)
    if not len(trajectory):
        return smoothed
    smoothed[0], speed = trajectory[0], np.zeros_like(trajectory[0])
    derivative_alpha = _alpha(derivative_cutoff_hz, fps)
    for t in range(1, len(trajectory)):
        raw_speed = (trajectory[t] - smoothed[t - 1]) * fps
        speed = speed + derivative_alpha * (raw_speed - speed)
        alpha = _alpha(min_cutoff_hz + beta * np.abs(speed), fps)
        smoothed[t] = smoothed[t - 1] + alpha * (trajectory[t] - smoothed[t - 1])
    return smoothed


def smooth(trajectory: np.ndarray, settings: SmoothingSettings, fps: float) -> np.ndarray:
    """Apply `settings.method` along axis 0 of a (T, ...) trajectory."""
    assert settings.method in SMOOTHERS, f"smoothing must be one of {SMOOTHERS}, got {settings.method!r}"
    if settings.method == "savgol":
        return savgol(trajectory, settings.window, settings.order)
    if settings.method == "one_euro":
        return one_euro(trajectory, fps, settings.min_cutoff_hz, settings.beta, settings.derivative_cutoff_hz)
    return np.asarray(trajectory).copy()
