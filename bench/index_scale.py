"""Print lookup latency of a 30 s query against 1,000 to 100,000 recordings in PostgreSQL.

Each scale lives in its own database (``stemma_bench_<N>``), built once and kept: the 40
real wesnoth tracks (our fingerprints of the OGG files) plus N - 40 synthetic recordings
of ~4 minutes (1,940 items on average). Re-running reuses a database whose build matches
the current algorithm version; ``--rebuild`` forces a new one.

Synthetic fingerprints: a stretch of the real tracks' items (all 40 tracks end to end,
from a random place, wrapping) XORed with one random 32-bit mask per recording (at least
8 of the 24 key bits flipped). This keeps everything inside a recording as in real music:
item-to-item correlation, runs of equal keys (which index_terms collapses, so the term
count per minute is real), self-similarity (which the alignment's uniqueness test sees).
Across recordings the keys are spread nearly uniformly, which real music does not do:
measured on the 40 tracks, unrelated real tracks share ~6x more keys than uniform keys
would (printed below as "key popularity factor"). So rows fetched per query on a real
catalogue of the same size would be ~6x the synthetic figure; the "6 queries at once"
SQL row estimates the postings step at that many rows. Plain random items would also lose
the runs and the correlation; copies of real items with only a few bits changed would
match the real queries (or vote for them), which real unrelated music does not.

Queries: a 30 s excerpt of each real track of 45 s or more, from a seeded random place,
encoded to MP3 128k (cached), decoded and fingerprinted by our pipeline. Every query has
a true match in the index (reported as recall, with the offset error).

Timed, per query, after one warm-up pass, in a shuffled order, 3 times:
- search: ``matching.search(items, DatabaseIndex())`` (SQL, voting, fetching candidate
  fingerprints, alignment);
- postings: ``DatabaseIndex().postings(keys)`` alone (SQL, fetch, numpy).

    .venv/bin/python bench/index_scale.py [--quick] [--scale 1000 10000 100000] [--rebuild]

Default scales: 1,000 and 10,000 (--quick: 1,000 only). 100,000 (172M postings,
13.3 GB on disk, ~7 min to load here) only when asked with --scale.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import struct
import sys
import time
from datetime import UTC, datetime

import bench_common as common
import numpy as np

GENERATOR_VERSION = 1
MEAN_ITEMS = 1940  # ~4 min at 8.08 items/s
QUERY_S = 30.0
QUERY_DIR = common.CACHE_DIR / "queries-30s-mp3-128k"
REPEAT = 3
BATCH = 2000  # synthetic recordings generated and loaded at a time


# ---------------------------------------------------------------- data


def synthetic_items(ring: np.ndarray, rng: np.random.Generator, key_bits: list[int]) -> np.ndarray:
    n = int(rng.integers(int(MEAN_ITEMS * 0.85), int(MEAN_ITEMS * 1.15) + 1))
    start = int(rng.integers(0, len(ring)))
    take = np.take(ring, np.arange(start, start + n), mode="wrap")
    while True:
        mask = int(rng.integers(0, 2**32, dtype=np.uint64))
        if sum(mask >> b & 1 for b in key_bits) >= 8:
            break
    return take ^ np.uint32(mask)


def queries(real: dict[str, tuple[np.ndarray, float, str]], quick: bool) -> list[dict]:
    """The 30 s MP3 128k excerpts of the real tracks, fingerprinted (cached as MP3)."""
    by_stem = {p.stem: p for p in common.music_paths()}
    out = []
    for name in sorted(real):
        duration_s = real[name][1]
        if duration_s < 45:
            continue
        rng = random.Random(f"query/{name}")
        start_s = round(rng.uniform(5.0, duration_s - QUERY_S - 5.0), 2)
        path = QUERY_DIR / f"{name}@{start_s:.2f}.mp3"
        common.encode_mp3(by_stem[name], path, bitrate=128_000, start_s=start_s, duration_s=QUERY_S)
        items, _ = common.fingerprint_path(path)
        out.append({"name": name, "start_s": start_s, "items": items})
    return out[:10] if quick else out


# ---------------------------------------------------------------- loading


def _copy_terms(cursor, batches: list[tuple[int, np.ndarray, np.ndarray]]) -> int:
    """Binary COPY of (key, recording_id, position) rows; returns the row count."""
    from fingerprinting.models import IndexTerm

    table = IndexTerm._meta.db_table
    row = np.dtype(
        [
            ("n", ">i2"),
            ("l1", ">i4"),
            ("key", ">i4"),
            ("l2", ">i4"),
            ("rec", ">i4"),
            ("l3", ">i4"),
            ("pos", ">i4"),
        ]
    )
    total = 0
    with cursor.copy(
        f"COPY {table} (key, recording_id, position) FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
        for recording_id, keys, positions in batches:
            rows = np.empty(len(keys), dtype=row)
            rows["n"], rows["l1"], rows["l2"], rows["l3"] = 3, 4, 4, 4
            rows["key"], rows["rec"], rows["pos"] = keys, recording_id, positions
            copy.write(rows.tobytes())
            total += len(keys)
        copy.write(struct.pack(">h", -1))
    return total


def _pk_name(cursor, table: str) -> str:
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'",
        [table],
    )
    return cursor.fetchone()[0]


def load(scale: int, real: dict[str, tuple[np.ndarray, float, str]], log) -> dict:
    """Fill the current (empty) bench database with ``scale`` recordings; returns timings."""
    from django.db import connection, transaction

    from fingerprinting import chromaprint, matching
    from fingerprinting.models import Fingerprint, IndexedRecording, IndexTerm
    from registry import services
    from registry.models import Organization, Recording

    table = IndexTerm._meta.db_table
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    org = Organization.objects.filter(name="Bench Catalogue").first()
    if org is None:
        org = services.organization_create(
            name="Bench Catalogue",
            kind="label",
            username="bench-catalogue",
            password="bench catalogue password",  # noqa: S106 -- a bench-only user
        )[0]
    with connection.cursor() as cursor:
        pk = _pk_name(cursor, table)
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {pk}")  # built again after COPY
    key_bits = [b for b in range(32) if matching.KEY_MASK >> b & 1]
    names = sorted(real)
    ring = np.concatenate([real[n][0] for n in names])
    rng = np.random.default_rng(scale)
    now = datetime.now(UTC)
    algorithm = chromaprint.ALGORITHM_VERSION
    total_terms = total_items = 0
    copy_s = 0.0
    made = 0
    while made < scale:
        count = min(BATCH, scale - made)
        fps: list[tuple[str, str, np.ndarray, float]] = []  # (title, sha, items, duration)
        for j in range(made, made + count):
            if j < len(names):
                items, duration_s, sha = real[names[j]]
                fps.append((f"wesnoth/{names[j]}", sha, items, duration_s))
            else:
                items = synthetic_items(ring, rng, key_bits)
                duration_s = (len(items) - 1) / chromaprint.ITEMS_PER_SECOND + 2.724
                fps.append(
                    (
                        f"synthetic {j}",
                        common.stable_sha256("synthetic", scale, j),
                        items,
                        duration_s,
                    )
                )
        t = time.perf_counter()
        with transaction.atomic():
            recordings = Recording.objects.bulk_create(
                Recording(
                    organization=org,
                    title=title,
                    audio_sha256=sha,
                    duration_s=round(d, 3),
                    status=Recording.Status.ACTIVE,
                    fingerprint_status=Recording.FingerprintStatus.DONE,
                )
                for title, sha, _, d in fps
            )
            with connection.cursor() as cursor:
                fp_table = Fingerprint._meta.db_table
                with cursor.copy(
                    f"COPY {fp_table} (audio_sha256, algorithm, items, item_count, duration_s,"
                    " created_at) FROM STDIN"
                ) as copy:
                    for _, sha, items, d in fps:
                        copy.write_row(
                            (sha, algorithm, chromaprint.to_bytes(items), len(items), d, now)
                        )
                terms = []
                for recording, (_, _, items, _) in zip(recordings, fps, strict=True):
                    keys, positions = matching.index_terms(items)
                    terms.append((recording.pk, keys, positions))
                    total_items += len(items)
                ir_table = IndexedRecording._meta.db_table
                with cursor.copy(
                    f"COPY {ir_table} (recording_id, audio_sha256, algorithm, term_count,"
                    " indexed_at) FROM STDIN"
                ) as copy:
                    for (recording_id, keys, _), (_, sha, _, _) in zip(terms, fps, strict=True):
                        copy.write_row(
                            (recording_id, sha, matching.ALGORITHM_VERSION, len(keys), now)
                        )
                total_terms += _copy_terms(cursor, terms)
        copy_s += time.perf_counter() - t
        made += count
        if made % 20000 == 0 or made == scale:
            log(f"  {made:,}/{scale:,} recordings, {total_terms:,} postings, {copy_s:.0f} s")
    timings["generate + COPY s"] = time.perf_counter() - t0
    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '2GB'")
        cursor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {pk} PRIMARY KEY (key, recording_id, position)"
        )
    timings["primary key build s"] = time.perf_counter() - t
    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("VACUUM ANALYZE")
    timings["VACUUM ANALYZE s"] = time.perf_counter() - t
    timings["total load s"] = time.perf_counter() - t0
    return {
        "generator": GENERATOR_VERSION,
        "algorithm": matching.ALGORITHM_VERSION,
        "scale": scale,
        "terms": total_terms,
        "items": total_items,
        "timings": timings,
        "built_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def read_meta() -> dict | None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_meta')")
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute("SELECT value FROM bench_meta WHERE key = 'build'")
        row = cursor.fetchone()
    return json.loads(row[0]) if row else None


def write_meta(meta: dict) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text)")
        cursor.execute(
            "INSERT INTO bench_meta VALUES ('build', %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [json.dumps(meta)],
        )


def prepare(scale: int, real, rebuild: bool, log) -> tuple[dict, bool]:
    """The bench database of this scale, built if missing or stale; (meta, built now)."""
    from fingerprinting import matching

    name = f"{common.BENCH_DB_PREFIX}_{scale}"
    if not rebuild and common.database_exists(name):
        common.use_database(name)
        meta = read_meta()
        if (
            meta
            and meta.get("generator") == GENERATOR_VERSION
            and meta.get("algorithm") == matching.ALGORITHM_VERSION
            and meta.get("scale") == scale
        ):
            common.ensure_database(name)  # migrations only
            return meta, False
    common.use_database(common.TEMPLATE_DB, connect=False)
    common.drop_database(name)
    common.ensure_database(name)
    log(f"building {name} ...")
    meta = load(scale, real, log)
    write_meta(meta)
    return meta, True


# ---------------------------------------------------------------- measuring


def popularity_factor(real) -> float:
    """How many more keys unrelated real tracks share than uniformly random keys would."""
    from fingerprinting import matching

    terms = {n: np.unique(matching.index_terms(v[0])[0]) for n, v in real.items()}
    hits = expected = 0.0
    for n, q in terms.items():
        others = np.concatenate([matching.index_terms(v[0])[0] for m, v in real.items() if m != n])
        hits += np.isin(others, q).sum()
        expected += len(q) * len(others) / 2 ** bin(matching.KEY_MASK).count("1")
    return hits / expected


def measure(qs: list[dict], real) -> dict:
    from fingerprinting import matching
    from fingerprinting.index import DatabaseIndex
    from registry.models import Recording

    by_title = dict(
        Recording.objects.filter(title__startswith="wesnoth/").values_list("title", "pk")
    )
    index = DatabaseIndex()
    keysets = [np.unique(matching.query_terms(q["items"])[0]) for q in qs]
    for q, keys in zip(qs, keysets, strict=True):  # warm-up: caches, plans
        index.postings(keys)
        matching.search(q["items"], index)
    search_ms, postings_ms, rows, six_ms, six_rows = [], [], [], [], []
    found = 0
    offset_errors = []
    order = list(range(len(qs))) * REPEAT
    random.Random(7).shuffle(order)
    seen = set()
    for i in order:
        q, keys = qs[i], keysets[i]
        t = time.perf_counter()
        k, _, _ = index.postings(keys)
        postings_ms.append((time.perf_counter() - t) * 1000)
        rows.append(len(k))
        t = time.perf_counter()
        matches = matching.search(q["items"], index)
        search_ms.append((time.perf_counter() - t) * 1000)
        if i not in seen:
            seen.add(i)
            want = by_title[f"wesnoth/{q['name']}"]
            hit = [m for m in matches if m.ref_id == want]
            if hit:
                found += 1
                offset_errors.append(
                    abs(hit[0].reference_start_s - hit[0].query_start_s - q["start_s"])
                )
    rng = random.Random(11)
    for _ in range(len(qs)):  # 6 queries' keys at once: ~ the rows a real catalogue gives
        union = np.unique(np.concatenate(rng.sample(keysets, 6)))
        t = time.perf_counter()
        k, _, _ = index.postings(union)
        six_ms.append((time.perf_counter() - t) * 1000)
        six_rows.append(len(k))
    return {
        "search": common.percentiles(search_ms),
        "postings": common.percentiles(postings_ms),
        "rows": float(np.mean(rows)),
        "keys": float(np.mean([len(k) for k in keysets])),
        "six": common.percentiles(six_ms),
        "six_rows": float(np.mean(six_rows)),
        "recall": f"{found}/{len(qs)}",
        "offset_err_s": float(np.median(offset_errors)) if offset_errors else float("nan"),
        "n": len(order),
    }


def sizes() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_total_relation_size('fingerprinting_indexterm'),"
            " pg_relation_size('fingerprinting_indexterm'),"
            " pg_indexes_size('fingerprinting_indexterm'),"
            " pg_total_relation_size('fingerprinting_fingerprint'), pg_database_size(current_database())"
        )
        total, heap, idx, fps, db = cursor.fetchone()
    return {"index": total, "heap": heap, "btree": idx, "fingerprints": fps, "database": db}


def explain(keys: np.ndarray) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (ANALYZE, BUFFERS) SELECT key, recording_id, position FROM "
            "fingerprinting_indexterm WHERE key = ANY(%s::int4[])",
            [keys.tolist()],
        )
        return "\n".join(r[0] for r in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 recordings, 10 queries")
    parser.add_argument("--scale", type=int, nargs="+", help="recordings (default 1000 10000)")
    parser.add_argument("--rebuild", action="store_true", help="build the databases again")
    args = parser.parse_args()
    scales = args.scale or ([1000] if args.quick else [1000, 10000])
    common.print_header("Index lookup latency at scale (PostgreSQL)", sys.argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    free_gb = shutil.disk_usage("/work").free / 2**30
    need_gb = max(scales) * 1.7e-4  # ~170 kB a recording, index and fingerprints
    if need_gb > free_gb - 10:
        raise SystemExit(f"needs ~{need_gb:.0f} GB; /work has {free_gb:.0f} GB free")
    common.setup_django(common.TEMPLATE_DB)
    real = common.real_fingerprints()
    qs = queries(real, args.quick)
    factor = popularity_factor(real)

    results = []
    for scale in scales:
        meta, built = prepare(scale, real, args.rebuild, log)
        log(f"measuring {scale:,} ...")
        m = measure(qs, real)
        s = sizes()
        hours = meta["items"] / 8.0769 / 3600
        results.append((scale, meta, built, m, s, hours))
        if scale == max(scales) or scale == 10000:
            from fingerprinting import matching

            one = np.unique(matching.query_terms(qs[0]["items"])[0])
            results[-1] = (*results[-1], explain(one))

    print(
        f"{len(qs)} queries (30 s, MP3 128k, real excerpts), each timed {REPEAT} times after a warm-up "
        f"pass (warm cache); {results[0][3]['keys']:.0f} distinct keys per query on average."
    )
    print(
        f"key popularity factor of real music (unrelated tracks share this many times more keys "
        f"than uniform): {factor:.1f}"
    )
    print()
    print(
        common.table(
            [
                "recordings",
                "postings",
                "search p50 ms",
                "p95",
                "p99",
                "postings() p50 ms",
                "p95",
                "p99",
                "rows/query",
                "6 queries' keys p50 ms",
                "p95",
                "rows",
                "recall",
                "median offset err s",
            ],
            [
                [
                    sc,
                    me["terms"],
                    *m["search"],
                    *m["postings"],
                    round(m["rows"]),
                    *m["six"][:2],
                    round(m["six_rows"]),
                    m["recall"],
                    m["offset_err_s"],
                ]
                for sc, me, _, m, *_ in results
            ],
        )
    )
    print()
    print(
        common.table(
            [
                "recordings",
                "audio h",
                "index MB",
                "heap MB",
                "btree MB",
                "index MB per audio h",
                "bytes/posting",
                "fingerprints MB",
                "database MB",
                "load s",
                "COPY s",
                "PK build s",
                "VACUUM ANALYZE s",
                "built",
            ],
            [
                [
                    sc,
                    round(h, 1),
                    s["index"] / 2**20,
                    s["heap"] / 2**20,
                    s["btree"] / 2**20,
                    s["index"] / 2**20 / h,
                    s["index"] / me["terms"],
                    s["fingerprints"] / 2**20,
                    s["database"] / 2**20,
                    me["timings"]["total load s"],
                    me["timings"]["generate + COPY s"],
                    me["timings"]["primary key build s"],
                    me["timings"]["VACUUM ANALYZE s"],
                    "now" if built else f"cached ({me['built_at']})",
                ]
                for sc, me, built, m, s, h, *_ in results
            ],
        )
    )
    for scale, *_rest in results:
        if len(_rest) == 6:
            print()
            print(f"EXPLAIN (ANALYZE, BUFFERS) of one query's postings at {scale:,} recordings:")
            print(_rest[5])


if __name__ == "__main__":
    main()
