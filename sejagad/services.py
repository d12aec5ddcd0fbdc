from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from sejagad.models import Region
from sejagad.wilayah import read_regions

REGION_FIELDS = ("name", "level", "parent_id", "postal_code")


@dataclass(frozen=True)
class RegionLoadResult:
    created: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@transaction.atomic
def load_regions(*, code: str | None = None, rows=None) -> RegionLoadResult:
    """Upsert the Kemendagri regions of one province or kabupaten (with its ancestors), or all of
    Indonesia when ``code`` is None. Only new or changed rows are written, so a re-run writes nothing."""
    prefix = code.strip() if code else None
    wanted = []
    for row in rows if rows is not None else read_regions():
        c = row["code"]
        if prefix is None or c == prefix or c.startswith(prefix + ".") or prefix.startswith(c + "."):
            wanted.append(
                Region(
                    code=c,
                    name=row["name"],
                    level=row["level"],
                    parent_id=row["parent_code"] or None,
                    postal_code=row["postal_code"] or "",
                )
            )
    if prefix and not any(r.code == prefix for r in wanted):
        raise ValueError(_("Kode wilayah %(code)s tidak ada dalam daftar Kemendagri.") % {"code": prefix})

    existing = {r[0]: r[1:] for r in Region.objects.values_list("code", *REGION_FIELDS)}
    new, changed = [], []
    for region in wanted:
        current = existing.get(region.code)
        if current is None:
            new.append(region)
        elif current != tuple(getattr(region, f) for f in REGION_FIELDS):
            changed.append(region)
    # Parents before children; codes grow with depth.
    new.sort(key=lambda r: len(r.code))
    Region.objects.bulk_create(new, batch_size=2000)
    Region.objects.bulk_update(changed, ["name", "level", "parent", "postal_code"], batch_size=2000)
    return RegionLoadResult(created=len(new), updated=len(changed), unchanged=len(wanted) - len(new) - len(changed))
