"""The spectral AI detector's linear model: fit (numpy logistic regression), calibrate, JSON load/save (pure).

A model is plain JSON (never pickle): the feature set it reads, the standardisation,
the weights, and what was measured when it was trained. Its bias is calibrated so that
a probability of 0.5, where :func:`fingerprinting.evidence.assess` starts counting a
signal as pointing to AI, is the operating point chosen on real music (a target
false-positive rate), not the logistic fit's own midpoint.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from fingerprinting import spectral

FORMAT = "stemma-ai-detector/1"
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "models_data" / "ai_detector_default.json"


class ModelError(ValueError):
    """A model file that cannot be used: unreadable, another format, or another analysis."""


def _analysis() -> dict[str, Any]:
    return {
        "algorithm": spectral.ALGORITHM_VERSION,
        "sample_rate": spectral.SAMPLE_RATE,
        "fft_size": spectral.FFT_SIZE,
        "hop": spectral.HOP,
        "band_hz": list(spectral.BAND_HZ),
        "trim": spectral.TRIM_FRACTION,
        "min_trimmed_frames": spectral.MIN_TRIMMED_FRAMES,
    }


@dataclass(frozen=True)
class DetectorModel:
    """Logistic regression on standardised spectral features."""

    name: str
    feature_set: str
    feature_names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    analysis: dict[str, Any] = field(default_factory=_analysis)
    measured: dict[str, Any] = field(default_factory=dict)  # figures on held-out files
    trained_on: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """``name-<12 hex>``: the hash of the numbers, so two different models never share one."""
        numbers = json.dumps(
            [self.feature_set, self.mean, self.scale, self.weights, self.bias], sort_keys=True
        )
        return f"{self.name}-{hashlib.sha256(numbers.encode()).hexdigest()[:12]}"

    @property
    def algorithm(self) -> str:
        return f"{spectral.ALGORITHM_VERSION}+{self.id}"

    def decision(self, x: np.ndarray) -> np.ndarray:
        """The logit(s) for one feature vector or a matrix of them."""
        z = (np.asarray(x, dtype=np.float64) - np.array(self.mean)) / np.array(self.scale)
        return z @ np.array(self.weights) + self.bias

    def probability(self, x: np.ndarray) -> np.ndarray:
        return _sigmoid(self.decision(x))

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data = {"format": FORMAT, "id": self.id, **data}
        for key in ("feature_names", "mean", "scale", "weights"):
            data[key] = list(data[key])
        return data


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


def fit(
    x: np.ndarray,
    y: np.ndarray,
    *,
    feature_set: str,
    name: str,
    l2: float = 1.0,
    iterations: int = 50,
) -> DetectorModel:
    """L2-regularised logistic regression by Newton's method, classes weighted equally."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or len(x) != len(y) or len(x) == 0:
        raise ValueError("x must be (samples, features) and y one label per sample")
    if not (y == 1).any() or not (y == 0).any():
        raise ValueError("both classes are needed to fit a model")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    sample_weight = np.where(y == 1, 0.5 / (y == 1).sum(), 0.5 / (y == 0).sum()) * len(y)
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0  # the intercept is not shrunk
    w = np.zeros(z.shape[1])
    for _ in range(iterations):
        p = _sigmoid(z @ w)
        gradient = z.T @ (sample_weight * (p - y)) + penalty * w
        hessian = (z * (sample_weight * p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.max(np.abs(step))) < 1e-8:
            break
    return DetectorModel(
        name=name,
        feature_set=feature_set,
        feature_names=tuple(spectral.feature_names(feature_set)),
        mean=tuple(float(v) for v in mean),
        scale=tuple(float(v) for v in scale),
        weights=tuple(float(v) for v in w[:-1]),
        bias=float(w[-1]),
    )


def calibrate(model: DetectorModel, x_real: np.ndarray, target_fpr: float) -> DetectorModel:
    """Shift the bias so that at most ``target_fpr`` of ``x_real`` score 0.5 or more.

    The threshold is put just above the real score at that quantile, and never below
    the fit's own midpoint (a model only ever gets stricter here).
    """
    logits = np.sort(model.decision(np.asarray(x_real, dtype=np.float64)))
    allowed = math.floor(target_fpr * len(logits))
    edge = logits[len(logits) - 1 - allowed] if len(logits) else 0.0
    shift = max(0.0, float(edge) + 1e-6)
    return DetectorModel(**{**_fields(model), "bias": model.bias - shift})


def _fields(model: DetectorModel) -> dict[str, Any]:
    return {f: getattr(model, f) for f in model.__dataclass_fields__}


def with_metadata(
    model: DetectorModel, *, measured: dict[str, Any], trained_on: dict[str, Any]
) -> DetectorModel:
    return DetectorModel(**{**_fields(model), "measured": measured, "trained_on": trained_on})


def dumps(model: DetectorModel) -> str:
    return json.dumps(model.as_dict(), indent=1, sort_keys=False) + "\n"


def save(model: DetectorModel, path: str | os.PathLike[str]) -> None:
    """Write the model JSON atomically (a reader never sees half a file)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(dumps(model), encoding="utf-8")
    os.replace(temporary, target)


def loads(text: str) -> DetectorModel:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"not a model file: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelError(f"not a {FORMAT} model")
    if data.get("analysis", {}) != _analysis():
        raise ModelError(
            f"the model was trained on another analysis ({data.get('analysis')}); "
            f"this code computes {_analysis()}"
        )
    try:
        model = DetectorModel(
            name=str(data["name"]),
            feature_set=str(data["feature_set"]),
            feature_names=tuple(str(n) for n in data["feature_names"]),
            mean=tuple(float(v) for v in data["mean"]),
            scale=tuple(float(v) for v in data["scale"]),
            weights=tuple(float(v) for v in data["weights"]),
            bias=float(data["bias"]),
            analysis=dict(data["analysis"]),
            measured=dict(data.get("measured") or {}),
            trained_on=dict(data.get("trained_on") or {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"incomplete model file: {exc!r}") from exc
    expected = spectral.feature_names(model.feature_set)
    lengths = {len(model.mean), len(model.scale), len(model.weights)}
    if list(model.feature_names) != expected or lengths != {len(expected)}:
        raise ModelError("the model's features are not the ones this code computes")
    if data.get("id") not in (None, model.id):
        raise ModelError("the model's id does not match its numbers (edited by hand?)")
    return model


def load(path: str | os.PathLike[str]) -> DetectorModel:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc}") from exc
    return loads(text)


def load_active(path: str | os.PathLike[str] | None) -> DetectorModel:
    """The installed model at ``path`` if there is one there, else the shipped default.

    Cached per (path, modification time), so installing a new model takes effect
    without a restart.
    """
    if path and Path(path).is_file():
        target = Path(path)
        return _load_cached(str(target), target.stat().st_mtime_ns)
    return _load_cached(str(DEFAULT_MODEL_PATH), DEFAULT_MODEL_PATH.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _load_cached(path: str, mtime_ns: int) -> DetectorModel:
    return load(path)
