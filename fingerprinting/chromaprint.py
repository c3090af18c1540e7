"""ctypes binding to libchromaprint: streaming raw fingerprints, their text form and storage bytes."""

from __future__ import annotations

import ctypes
import ctypes.util
from types import TracebackType
from typing import Self

import numpy as np

SAMPLE_RATE = 11025  # Chromaprint resamples everything to this rate internally
ALGORITHM = 1  # CHROMAPRINT_ALGORITHM_TEST2 == CHROMAPRINT_ALGORITHM_DEFAULT, what fpcalc uses
ITEM_STEP_SAMPLES = 1365  # one 32-bit item per 1365 input samples at 11025 Hz (FFT hop)
ITEM_DURATION_S = ITEM_STEP_SAMPLES / SAMPLE_RATE  # 0.12381 s
ITEMS_PER_SECOND = SAMPLE_RATE / ITEM_STEP_SAMPLES  # 8.0769
SILENCE_ITEM = 627964279  # the item digital silence produces

_U32_PTR = ctypes.POINTER(ctypes.c_uint32)


def _load() -> ctypes.CDLL:
    name = ctypes.util.find_library("chromaprint") or "libchromaprint.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        raise RuntimeError(
            f"libchromaprint could not be loaded ({name}): install the Debian/Ubuntu package "
            "libchromaprint1 (apt-get install libchromaprint1)"
        ) from exc
    ctx = ctypes.c_void_p
    signatures: dict[str, tuple[list[type], type | None]] = {
        "chromaprint_get_version": ([], ctypes.c_char_p),
        "chromaprint_new": ([ctypes.c_int], ctx),
        "chromaprint_free": ([ctx], None),
        "chromaprint_start": ([ctx, ctypes.c_int, ctypes.c_int], ctypes.c_int),
        "chromaprint_feed": ([ctx, ctypes.c_void_p, ctypes.c_int], ctypes.c_int),
        "chromaprint_finish": ([ctx], ctypes.c_int),
        "chromaprint_get_raw_fingerprint": (
            [ctx, ctypes.POINTER(_U32_PTR), ctypes.POINTER(ctypes.c_int)],
            ctypes.c_int,
        ),
        "chromaprint_get_item_duration": ([ctx], ctypes.c_int),
        "chromaprint_get_delay": ([ctx], ctypes.c_int),
        "chromaprint_encode_fingerprint": (
            [
                _U32_PTR,
                ctypes.c_int,
                ctypes.c_int,
                ctypes.POINTER(ctypes.c_void_p),
                ctypes.POINTER(ctypes.c_int),
                ctypes.c_int,
            ],
            ctypes.c_int,
        ),
        "chromaprint_decode_fingerprint": (
            [
                ctypes.c_char_p,
                ctypes.c_int,
                ctypes.POINTER(_U32_PTR),
                ctypes.POINTER(ctypes.c_int),
                ctypes.POINTER(ctypes.c_int),
                ctypes.c_int,
            ],
            ctypes.c_int,
        ),
        "chromaprint_dealloc": ([ctypes.c_void_p], None),
    }
    for function_name, (argtypes, restype) in signatures.items():
        function = getattr(lib, function_name)
        function.argtypes = argtypes
        function.restype = restype
    return lib


_lib = _load()
LIBRARY_VERSION: str = _lib.chromaprint_get_version().decode("ascii")
ALGORITHM_VERSION = f"chromaprint-{LIBRARY_VERSION}/test2"


def _take_raw(pointer: ctypes._Pointer[ctypes.c_uint32], size: int) -> np.ndarray:
    """Copy a uint32 buffer owned by Chromaprint into numpy, then free it."""
    try:
        if size <= 0:
            return np.zeros(0, dtype=np.uint32)
        return np.ctypeslib.as_array(pointer, shape=(size,)).astype(np.uint32, copy=True)
    finally:
        _lib.chromaprint_dealloc(ctypes.cast(pointer, ctypes.c_void_p))


class Fingerprinter:
    """A streaming Chromaprint context: ``feed`` int16 chunks, then ``finish`` once.

    Usable as a consumer of :func:`fingerprinting.audio.decode` (it has ``feed`` and
    ``finish``); ``finish`` is idempotent and returns the same raw fingerprint again,
    so the caller can read the result after ``decode`` has finished it. Unlike fpcalc
    there is no length cap: the whole input is fingerprinted.
    """

    def __init__(
        self, sample_rate: int = SAMPLE_RATE, channels: int = 1, algorithm: int = ALGORITHM
    ) -> None:
        self._ctx: int | None = _lib.chromaprint_new(algorithm)
        if not self._ctx:
            raise MemoryError("chromaprint_new failed")
        self.sample_rate = sample_rate
        self.channels = channels
        self._result: np.ndarray | None = None
        if not _lib.chromaprint_start(self._ctx, sample_rate, channels):
            self.close()
            raise ValueError(f"chromaprint_start rejected {sample_rate} Hz x {channels} channels")

    def feed(self, samples: np.ndarray) -> None:
        """Add int16 samples (interleaved if several channels)."""
        if self._ctx is None or self._result is not None:
            raise RuntimeError("this Fingerprinter is finished or closed")
        if samples.dtype != np.int16:
            raise TypeError(f"samples must be int16, not {samples.dtype}")
        data = np.ascontiguousarray(samples).reshape(-1)
        if data.size and not _lib.chromaprint_feed(self._ctx, data.ctypes.data, data.size):
            raise RuntimeError("chromaprint_feed failed")

    def finish(self) -> np.ndarray:
        """Flush and return the raw fingerprint (uint32 items); frees the native context."""
        if self._result is not None:
            return self._result
        if self._ctx is None:
            raise RuntimeError("this Fingerprinter is closed")
        try:
            if not _lib.chromaprint_finish(self._ctx):
                raise RuntimeError("chromaprint_finish failed")
            pointer = _U32_PTR()
            size = ctypes.c_int(0)
            if not _lib.chromaprint_get_raw_fingerprint(
                self._ctx, ctypes.byref(pointer), ctypes.byref(size)
            ):
                raise RuntimeError("chromaprint_get_raw_fingerprint failed")
            self._result = _take_raw(pointer, size.value)
        finally:
            self.close()
        return self._result

    def close(self) -> None:
        if self._ctx is not None:
            _lib.chromaprint_free(self._ctx)
            self._ctx = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


def fingerprint(
    samples: np.ndarray, sample_rate: int = SAMPLE_RATE, channels: int = 1
) -> np.ndarray:
    """Raw fingerprint (uint32 items) of a whole int16 signal, without fpcalc's 120 s cap."""
    with Fingerprinter(sample_rate, channels) as fingerprinter:
        fingerprinter.feed(samples)
        return fingerprinter.finish()


def encode(raw: np.ndarray, algorithm: int = ALGORITHM) -> str:
    """Compressed, URL-safe base64 form, identical to fpcalc's ``FINGERPRINT=`` output."""
    items = np.ascontiguousarray(raw, dtype=np.uint32)
    encoded = ctypes.c_void_p()
    size = ctypes.c_int(0)
    ok = _lib.chromaprint_encode_fingerprint(
        items.ctypes.data_as(_U32_PTR),
        items.size,
        algorithm,
        ctypes.byref(encoded),
        ctypes.byref(size),
        1,
    )
    try:
        if not ok or not encoded.value:
            raise ValueError("chromaprint_encode_fingerprint failed")
        return ctypes.string_at(encoded.value, size.value).decode("ascii")
    finally:
        if encoded.value:
            _lib.chromaprint_dealloc(encoded)


def decode_fingerprint(text: str) -> np.ndarray:
    """Inverse of :func:`encode`; raises ValueError for text that is not a fingerprint."""
    data = text.strip().encode("ascii", errors="replace")
    pointer = _U32_PTR()
    size = ctypes.c_int(0)
    algorithm = ctypes.c_int(-1)
    ok = _lib.chromaprint_decode_fingerprint(
        data, len(data), ctypes.byref(pointer), ctypes.byref(size), ctypes.byref(algorithm), 1
    )
    if not ok:
        if pointer:
            _lib.chromaprint_dealloc(ctypes.cast(pointer, ctypes.c_void_p))
        raise ValueError("not a valid Chromaprint fingerprint")
    if not pointer:
        return np.zeros(0, dtype=np.uint32)
    return _take_raw(pointer, size.value)


def to_bytes(raw: np.ndarray) -> bytes:
    """Storage form: little-endian uint32 items, 4 bytes each."""
    return np.asarray(raw, dtype=np.uint32).astype("<u4", copy=False).tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    """Inverse of :func:`to_bytes` (a writable, native-endian uint32 array)."""
    if len(data) % 4:
        raise ValueError(f"fingerprint bytes must be a multiple of 4 long, got {len(data)}")
    return np.frombuffer(data, dtype="<u4").astype(np.uint32)
