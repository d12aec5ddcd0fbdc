"""The coverage roll-up as table arithmetic (pandas): desa > kecamatan > kabupaten > provinsi.

A region's own count wins; a region without one takes the sum of its children. Population and participants
roll up separately, so participants given per kecamatan meet population given per desa at the kecamatan,
the level where both exist. All threshold tests use integers (hundredths of a percent), never rounded
percentages: 97.96 % does not meet 98 %.
"""

from dataclasses import dataclass

import pandas as pd

from coverage.models import period_year
from sejagad.models import LEVEL_BY_CODE_LENGTH

# Dotted code length of a child -> of its parent.
PARENT_LENGTH = ((13, 8), (8, 5), (5, 2))
SNAPSHOT_COLUMNS = [
    "region_id",
    "period",
    "level",
    "population",
    "participants",
    "active_participants",
    "coverage_pct",
    "active_pct",
    "gap",
    "is_uhc",
    "tier",
]


@dataclass(frozen=True)
class Tier:
    rank: int
    name: str
    coverage_hundredths: int  # 95.00 % -> 9500
    active_hundredths: int | None


def _roll_up(own: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Own rows indexed by (region_id, period); parents without a row of their own get their children's sum."""
    out = own.set_index(["region_id", "period"])[columns]
    for child_length, parent_length in PARENT_LENGTH:
        codes = out.index.get_level_values(0)
        children = out[codes.str.len() == child_length]
        if children.empty:
            continue
        keys = [children.index.get_level_values(0).str[:parent_length], children.index.get_level_values(1)]
        sums = children.groupby(keys).sum(min_count=1)
        sums.index.names = ["region_id", "period"]
        out = pd.concat([out, sums[~sums.index.isin(out.index)]])
    return out


def roll_up(
    population: pd.DataFrame,
    participants: pd.DataFrame,
    tiers_by_year: dict[int, list[Tier]],
    regions: frozenset[str],
) -> pd.DataFrame:
    """Coverage of every region that has a count or a descendant with one, for the periods given.

    ``population``: region_id, period, total. ``participants``: region_id, period, total, active (None when
    some segment's active count is unknown). ``regions``: the codes that exist (ancestors may be absent).
    """
    pop = _roll_up(population.rename(columns={"total": "population"}), ["population"])
    part = participants.rename(columns={"total": "participants", "active": "active_participants"}).copy()
    part["active_unknown"] = part["active_participants"].isna().astype("int64")
    part = _roll_up(part, ["participants", "active_participants", "active_unknown"])
    frame = pop.join(part, how="outer").reset_index()
    frame = frame[frame["region_id"].isin(regions)].reset_index(drop=True)

    population_ = frame["population"].astype("Int64")
    participants_ = frame["participants"].astype("Int64")
    active = frame["active_participants"].astype("Int64").mask(frame["active_unknown"].fillna(0) > 0)
    frame["population"], frame["participants"], frame["active_participants"] = population_, participants_, active
    frame["level"] = frame["region_id"].str.len().map({k: str(v) for k, v in LEVEL_BY_CODE_LENGTH.items()})

    known = population_.notna() & (population_ > 0) & participants_.notna()
    # Half-up rounding to hundredths in integers: (2 * 10000 * p + n) // (2 * n).
    frame["coverage_pct"] = ((participants_ * 20000 + population_) // (population_ * 2)).where(known) / 100
    has_active = active.notna() & participants_.notna() & (participants_ > 0)
    frame["active_pct"] = ((active * 20000 + participants_) // (participants_ * 2)).where(has_active) / 100

    frame["gap"] = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    frame["is_uhc"] = pd.Series(pd.NA, index=frame.index, dtype="boolean")
    frame["tier"] = ""
    years = frame["period"].map(period_year)
    for year in years.unique():
        tiers = tiers_by_year.get(int(year))
        if not tiers:
            continue
        rows = (years == year).to_numpy() & known.to_numpy()
        n, p, a = population_[rows], participants_[rows], active[rows]
        base = tiers[0]
        frame.loc[rows, "gap"] = ((n * base.coverage_hundredths + 9999) // 10000 - p).clip(lower=0)
        met_by_tier = [_meets(tier, n, p, a) for tier in tiers]
        frame.loc[rows, "is_uhc"] = met_by_tier[0]
        highest = pd.Series("", index=n.index)
        for tier, met in zip(tiers, met_by_tier, strict=True):
            highest = highest.mask(met.fillna(False).astype(bool), tier.name)
        frame.loc[rows, "tier"] = highest
    frame["tier"] = frame["tier"].fillna("")
    return frame[SNAPSHOT_COLUMNS]


def _meets(tier: Tier, n: pd.Series, p: pd.Series, a: pd.Series) -> pd.Series:
    """True when every criterion of the tier is met, False when one is missed, <NA> when one cannot be judged."""
    coverage_met = (p * 10000 >= n * tier.coverage_hundredths).astype("boolean")
    if tier.active_hundredths is None:
        return coverage_met
    active_met = (a * 10000 >= p * tier.active_hundredths).astype("boolean")
    # Kleene logic: a missed criterion decides even when the other is unknown.
    return coverage_met & active_met


def hundredths(value) -> int:
    """95.00 (Decimal) -> 9500, exactly."""
    return int((value * 100).to_integral_exact())
