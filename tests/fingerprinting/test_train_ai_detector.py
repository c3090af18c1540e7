"""The detector's model: fitting, JSON round trip, and the train_ai_detector command end to end."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from fingerprinting import detector_model, simulate, spectral, synth

RATE = 44100


def toy_model(seed: int = 0) -> tuple[detector_model.DetectorModel, np.ndarray]:
    rng = np.random.default_rng(seed)
    width = len(spectral.feature_names("invariant"))
    x = rng.normal(0, 1, (200, width))
    y = (x[:, 0] + 0.5 * x[:, 3] > 0).astype(float)
    return detector_model.fit(x, y, feature_set="invariant", name="toy"), x


def test_fit_separates_a_linear_problem() -> None:
    model, x = toy_model()
    predicted = model.probability(x) >= 0.5
    truth = x[:, 0] + 0.5 * x[:, 3] > 0
    assert (predicted == truth).mean() > 0.95


def test_calibration_holds_the_false_positive_target() -> None:
    model, x = toy_model()
    real = x[x[:, 0] + 0.5 * x[:, 3] <= 0]
    strict = detector_model.calibrate(model, real, 0.0)
    assert not (strict.probability(real) >= 0.5).any()
    assert strict.bias <= model.bias  # only ever stricter


def test_json_round_trip(tmp_path: Path) -> None:
    model, x = toy_model()
    model = detector_model.with_metadata(
        model, measured={"false_positive_rate": 0.0}, trained_on={"real_files": 3}
    )
    path = tmp_path / "m.json"
    detector_model.save(model, path)
    loaded = detector_model.load(path)
    assert loaded == model and loaded.id == model.id
    np.testing.assert_array_equal(loaded.probability(x), model.probability(x))
    data = json.loads(path.read_text())
    assert data["format"] == detector_model.FORMAT and data["id"] == model.id
    assert data["analysis"]["fft_size"] == spectral.FFT_SIZE


def test_tampered_or_foreign_files_are_refused(tmp_path: Path) -> None:
    model, _ = toy_model()
    data = model.as_dict()
    edited = {**data, "weights": [w * 2 for w in data["weights"]]}
    with pytest.raises(detector_model.ModelError, match="id"):
        detector_model.loads(json.dumps(edited))
    other = {**data, "analysis": {**data["analysis"], "fft_size": 4096}}
    with pytest.raises(detector_model.ModelError, match="analysis"):
        detector_model.loads(json.dumps(other))
    with pytest.raises(detector_model.ModelError):
        detector_model.loads("not json")
    with pytest.raises(detector_model.ModelError):
        detector_model.load(tmp_path / "missing.json")
    short = {**data, "weights": data["weights"][:-1]}
    short.pop("id")
    with pytest.raises(detector_model.ModelError):
        detector_model.loads(json.dumps(short))


def test_the_shipped_model_loads_and_says_what_it_was_measured_on() -> None:
    model = detector_model.load(detector_model.DEFAULT_MODEL_PATH)
    assert model.feature_set in spectral.FEATURE_SETS
    assert model.measured and model.trained_on["architectures"]
    assert not set(model.trained_on["architectures"]) & set(
        model.trained_on["held_out_architectures"]
    )
    assert detector_model.load_active("") == model
    assert detector_model.load_active("/nonexistent/model.json") == model


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """6 synthetic human pieces and 6 through simulated decoders, 6 s each, as WAV/FLAC."""
    root = tmp_path_factory.mktemp("labelled")
    real, ai = root / "real", root / "ai"
    real.mkdir()
    ai.mkdir()
    for i in range(6):
        music = synth.music(100 + i, 6.0)
        synth.write(real / f"human{i}.wav", music, RATE, "wav")
        arch = simulate.TRAINING[i % len(simulate.TRAINING)]
        generated = simulate.simulate(
            synth.music(200 + i, 6.0).mean(axis=1),
            RATE,
            arch,
            level_db=-35.0,
            output_rate=48000,
            rng=np.random.default_rng(i),
        )
        synth.write(ai / f"generated{i}.flac", generated, 48000, "flac")
    (real / "notes.txt").write_text("not audio: ignored")
    return real, ai


@pytest.mark.django_db
def test_train_command_end_to_end(
    labelled: tuple[Path, Path], tmp_path: Path, settings: object
) -> None:
    real, ai = labelled
    installed = tmp_path / "var" / "model.json"
    settings.STEMMA_AI_DETECTOR_MODEL = str(installed)  # type: ignore[attr-defined]
    out = tmp_path / "mine.json"
    stdout = io.StringIO()
    call_command(
        "train_ai_detector",
        str(real),
        str(ai),
        "--out",
        str(out),
        "--install",
        "--test-fraction",
        "0.34",
        stdout=stdout,
    )
    text = stdout.getvalue()
    assert "trained on 4 real and 4 AI files; held out 2 real and 2 AI" in text
    fpr = re.search(r"false-positive rate on held-out real files: (\d+)/(\d+)", text)
    tpr = re.search(r"true-positive rate on held-out AI files: (\d+)/(\d+)", text)
    assert fpr and tpr
    assert (fpr.group(1), fpr.group(2)) == ("0", "2")
    assert (tpr.group(1), tpr.group(2)) == ("2", "2")
    written = detector_model.load(out)
    assert written.measured["held_out_real"] == 2
    assert written.measured["true_positive_rate"] == 1.0
    assert detector_model.load(installed) == written
    assert detector_model.load_active(str(installed)) == written
    assert f"installed model {written.id}" in text


@pytest.mark.django_db
def test_train_command_refuses_too_little_audio(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "ai").mkdir()
    synth.write(tmp_path / "real" / "a.wav", synth.music(1, 4.0), RATE, "wav")
    with pytest.raises(CommandError, match="at least 2 audio files"):
        call_command("train_ai_detector", str(tmp_path / "real"), str(tmp_path / "ai"))
    with pytest.raises(CommandError, match="not a directory"):
        call_command("train_ai_detector", str(tmp_path / "nope"), str(tmp_path / "ai"))
