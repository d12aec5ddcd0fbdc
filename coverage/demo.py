"""Demo population and JKN participants for Kabupaten Luwu Utara, per desa, semester II 2021 to semester II 2024.

The district totals are the published ones where they exist: 329,934 residents and 244,956 participants in
2021-S2 (74.24 %, seed 001), 335,161 residents in 2024-S2 (DOMAIN.md). Between them, coverage grows toward
UHC as PESIAR sweeps reach the desa. Spreads per desa are invented but deterministic, so a re-run writes
nothing; every total is split with the largest-remainder method, so desa sum exactly to the district.
"""

import random

import pandas as pd
from django.db import transaction

from coverage import services
from coverage.models import ImportKind, Segment, period_label
from sejagad.demo import DEMO_DISTRICT
from sejagad.models import Region

# period: (population, participants, share of participants active)
DISTRICT_TOTALS = {
    "2021-S2": (329_934, 244_956, 0.84),
    "2022-S1": (330_805, 257_500, 0.845),
    "2022-S2": (331_676, 271_900, 0.85),
    "2023-S1": (332_548, 284_300, 0.855),
    "2023-S2": (333_419, 296_100, 0.86),
    "2024-S1": (334_290, 305_400, 0.865),
    "2024-S2": (335_161, 313_250, 0.87),
}
SEGMENT_SHARES = {Segment.PBI_APBN: 48, Segment.PBI_APBD: 14, Segment.PPU: 16, Segment.PBPU: 17, Segment.BP: 5}
SEGMENT_ACTIVE = {
    Segment.PBI_APBN: 0.97,
    Segment.PBI_APBD: 0.95,
    Segment.PPU: 0.92,
    Segment.PBPU: 0.55,
    Segment.BP: 0.7,
}
HIGHLAND = {"73.22.05", "73.22.07", "73.22.09"}  # Rongkong, Seko, Rampi: few people, far from offices
SOURCE = "Data demo, bentuk DKB Dukcapil"


def allocate(total: int, weights: list[float]) -> list[int]:
    """Split an integer total in proportion to weights, exactly (largest remainder)."""
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    shares = [int(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: (raw[i] - shares[i], -i), reverse=True)
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def demo_frames(desa: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Population and participant rows (our import columns) for the desa codes given, sorted."""
    rng = random.Random(7322)
    size, growth, offset, segment_mix, female_share, paying = {}, {}, {}, {}, {}, {}
    for code in desa:
        kelurahan = code.split(".")[-1].startswith("1")
        highland = code[:8] in HIGHLAND
        size[code] = rng.uniform(0.6, 1.6) * (2.5 if kelurahan else 1) * (0.5 if highland else 1)
        growth[code] = rng.uniform(-0.01, 0.04)
        offset[code] = rng.gauss(0, 0.07) + (0.04 if kelurahan else 0) - (0.1 if highland else 0)
        segment_mix[code] = {s: share * rng.uniform(0.7, 1.3) for s, share in SEGMENT_SHARES.items()}
        female_share[code] = rng.uniform(0.49, 0.505)
        paying[code] = rng.uniform(0.8, 1.05)
    population_rows, participant_rows = [], []
    periods = list(DISTRICT_TOTALS)
    for step, period in enumerate(periods):
        t = step / (len(periods) - 1)
        population, participants, active_share = DISTRICT_TOTALS[period]
        rate = participants / population
        people = allocate(population, [size[c] * (1 + growth[c] * t) for c in desa])
        members = allocate(
            participants, [n * min(max(rate + offset[c], 0.35), 1.1) for c, n in zip(desa, people, strict=True)]
        )
        for code, n, m in zip(desa, people, members, strict=True):
            female = round(n * female_share[code])
            population_rows.append((code, period, n, n - female, female, SOURCE))
            for segment, count in zip(SEGMENT_SHARES, allocate(m, list(segment_mix[code].values())), strict=True):
                active = min(count, round(count * SEGMENT_ACTIVE[segment] * active_share / 0.87 * paying[code]))
                participant_rows.append((code, period, str(segment), count, active))
    population_frame = pd.DataFrame(
        population_rows, columns=["region_id", "period", "total", "male", "female", "source"]
    )
    participant_frame = pd.DataFrame(participant_rows, columns=["region_id", "period", "segment", "total", "active"])
    for frame, columns in ((population_frame, ["total", "male", "female"]), (participant_frame, ["total", "active"])):
        frame[columns] = frame[columns].astype("Int64")
    return population_frame, participant_frame


@transaction.atomic
def seed_demo_coverage() -> dict:
    """Write the demo counts for Luwu Utara (only rows that differ) and compute coverage; safe to repeat."""
    desa = list(
        Region.objects.filter(code__startswith=DEMO_DISTRICT + ".")
        .desa()
        .order_by("code")
        .values_list("code", flat=True)
    )
    if not desa:
        return {"population": 0, "participants": 0, "periods": []}
    population, participants = demo_frames(desa)
    written_population = services.write_counts(kind=ImportKind.POPULATION, rows=population)
    written_participants = services.write_counts(kind=ImportKind.PARTICIPANTS, rows=participants)
    run = services.compute_coverage(periods=list(DISTRICT_TOTALS))
    return {
        "population": written_population,
        "participants": written_participants,
        "snapshots": run.written,
        "periods": [period_label(p) for p in DISTRICT_TOTALS],
    }
