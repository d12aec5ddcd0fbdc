from rest_framework import serializers

from coverage.models import CoverageSnapshot


class CoverageSnapshotSerializer(serializers.ModelSerializer):
    """A region's coverage in one semester. Empty figures mean the data is not available (never 0 %)."""

    region = serializers.CharField(source="region_id", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    parent = serializers.CharField(source="region.parent_id", read_only=True, allow_null=True)
    has_data = serializers.BooleanField(read_only=True)

    class Meta:
        model = CoverageSnapshot
        fields = [
            "region",
            "region_name",
            "parent",
            "level",
            "period",
            "population",
            "participants",
            "active_participants",
            "coverage_pct",
            "active_pct",
            "gap",
            "is_uhc",
            "tier",
            "has_data",
            "computed_at",
        ]
        read_only_fields = fields
