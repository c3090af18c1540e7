"""Fit the spectral AI detector on labelled audio, measure it on held-out files, write (and install) it."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fingerprinting import audio, detector_model, spectral

AUDIO_EXTENSIONS = frozenset(audio.EXTENSION_CONTAINERS)


def installed_model_path() -> Path:
    """Where ``--install`` writes, and where the app looks first (then the shipped model)."""
    configured = settings.STEMMA_AI_DETECTOR_MODEL
    return Path(configured) if configured else Path(settings.VAR_DIR) / "ai-detector" / "model.json"


def audio_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS
    )


def split(files: list[Path], fraction: float, seed: int) -> tuple[list[Path], list[Path]]:
    """(train, held out): a seeded shuffle; at least one file on each side."""
    shuffled = files[:]
    random.Random(seed).shuffle(shuffled)  # noqa: S311 - a reproducible split, not a secret
    held = min(len(files) - 1, max(1, round(len(files) * fraction)))
    return shuffled[held:], shuffled[:held]


class Command(BaseCommand):
    help = (
        "Fit the spectral AI detector on REAL_DIR (human-made) and AI_DIR (generated) audio, "
        "print its false- and true-positive rates on held-out files, and write the model JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("real_dir", type=Path)
        parser.add_argument("ai_dir", type=Path)
        parser.add_argument("--out", type=Path, help="where to write the model JSON")
        parser.add_argument(
            "--install",
            action="store_true",
            help="make it the model the app uses (STEMMA_AI_DETECTOR_MODEL)",
        )
        parser.add_argument("--test-fraction", type=float, default=0.25)
        parser.add_argument(
            "--target-fpr",
            type=float,
            default=0.005,
            help="largest share of the training real files allowed to score 0.5 or more",
        )
        parser.add_argument("--feature-set", default="contrast", choices=spectral.FEATURE_SETS)
        parser.add_argument("--l2", type=float, default=10.0)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--name", default="user")

    def handle(self, *args: Any, **options: Any) -> None:
        real_dir, ai_dir = options["real_dir"], options["ai_dir"]
        for folder in (real_dir, ai_dir):
            if not folder.is_dir():
                raise CommandError(f"{folder} is not a directory")
        if not 0 < options["test_fraction"] < 1:
            raise CommandError("--test-fraction must be between 0 and 1")
        real_files, ai_files = audio_files(real_dir), audio_files(ai_dir)
        if len(real_files) < 2 or len(ai_files) < 2:
            raise CommandError(
                f"need at least 2 audio files in each folder "
                f"(found {len(real_files)} real, {len(ai_files)} AI)"
            )
        real_train, real_test = split(real_files, options["test_fraction"], options["seed"])
        ai_train, ai_test = split(ai_files, options["test_fraction"], options["seed"] + 1)
        feature_set = options["feature_set"]
        x: list[np.ndarray] = []
        y: list[int] = []
        held: list[bool] = []
        skipped: list[str] = []
        for files, label, is_test in (
            (real_train, 0, False),
            (real_test, 0, True),
            (ai_train, 1, False),
            (ai_test, 1, True),
        ):
            for path in files:
                vector = self._features(path, feature_set)
                if vector is None:
                    skipped.append(str(path))
                    continue
                x.append(vector)
                y.append(label)
                held.append(is_test)
        xa, ya, test = np.array(x), np.array(y), np.array(held, dtype=bool)
        train = ~test
        if len(set(ya[train])) < 2 or len(set(ya[test])) < 2:
            raise CommandError("too few decodable files on one side of the split")
        model = detector_model.fit(
            xa[train], ya[train], feature_set=feature_set, name=options["name"], l2=options["l2"]
        )
        model = detector_model.calibrate(model, xa[train & (ya == 0)], options["target_fpr"])
        flagged = model.probability(xa[test]) >= 0.5
        real_held, ai_held = ya[test] == 0, ya[test] == 1
        fp, n_real = int(flagged[real_held].sum()), int(real_held.sum())
        tp, n_ai = int(flagged[ai_held].sum()), int(ai_held.sum())
        model = detector_model.with_metadata(
            model,
            measured={
                "evaluation": "held-out files (train_ai_detector)",
                "false_positive_rate": fp / n_real,
                "true_positive_rate": tp / n_ai,
                "held_out_real": n_real,
                "held_out_ai": n_ai,
            },
            trained_on={
                "real_files": int((train & (ya == 0)).sum()),
                "ai_files": int((train & (ya == 1)).sum()),
                "target_fpr": options["target_fpr"],
                "seed": options["seed"],
            },
        )
        for name in skipped:
            self.stderr.write(f"skipped (not decodable or too short): {name}")
        self.stdout.write(
            f"trained on {int((train & (ya == 0)).sum())} real and "
            f"{int((train & (ya == 1)).sum())} AI files; held out {n_real} real and {n_ai} AI"
        )
        self.stdout.write(
            f"false-positive rate on held-out real files: {fp}/{n_real} = {fp / n_real:.2%}"
        )
        self.stdout.write(f"true-positive rate on held-out AI files: {tp}/{n_ai} = {tp / n_ai:.2%}")
        out: Path | None = options["out"]
        if out is None and not options["install"]:
            out = Path(f"ai-detector-{model.id}.json")
        if out is not None:
            detector_model.save(model, out)
            self.stdout.write(f"wrote {out} (model {model.id})")
        if options["install"]:
            target = installed_model_path()
            detector_model.save(model, target)
            self.stdout.write(self.style.SUCCESS(f"installed model {model.id} at {target}"))

    def _features(self, path: Path, feature_set: str) -> np.ndarray | None:
        accumulator = spectral.SpectrumAccumulator()
        try:
            audio.decode(path, hires_consumers=(accumulator,), declared_extension=path.suffix)
        except audio.AudioError:
            return None
        spectrum = accumulator.finish()
        if spectrum.frames < spectral.MIN_FRAMES:
            return None
        return spectral.features(spectrum, feature_set)[0]
