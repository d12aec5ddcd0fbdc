from rest_framework import serializers

from enrollment.models import Enrollment, EnrollmentStatus, FlagLevel
from newborns import validators
from newborns.models import Segment
from sejagad.text import GuardedTextSerializerMixin


class EnrollmentSerializer(serializers.ModelSerializer):
    newborn = serializers.PrimaryKeyRelatedField(read_only=True)
    temporary_name = serializers.CharField(source="newborn.temporary_name", read_only=True)
    birth_date = serializers.DateField(source="newborn.birth_date", read_only=True)
    desa = serializers.CharField(source="newborn.desa_id", read_only=True)
    kecamatan = serializers.CharField(source="newborn.desa.parent_id", read_only=True)
    registration_level = serializers.SerializerMethodField()
    nik_level = serializers.SerializerMethodField()
    days_left = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Enrollment
        fields = [
            "id",
            "newborn",
            "temporary_name",
            "birth_date",
            "desa",
            "kecamatan",
            "segment",
            "jkn_number",
            "status",
            "registered_on",
            "nik_updated_on",
            "deactivated_on",
            "pbi_proposed_on",
            "registration_deadline",
            "nik_deadline",
            "registration_level",
            "nik_level",
            "days_left",
        ]
        read_only_fields = fields

    def get_registration_level(self, obj) -> str:
        return FlagLevel(obj.registration_level).name

    def get_nik_level(self, obj) -> str:
        return FlagLevel(obj.nik_level).name


class EnrollmentUpdateSerializer(GuardedTextSerializerMixin, serializers.Serializer):
    """What BPJS reports; omitted fields keep their value. The rules live in services.update_enrollment."""

    segment = serializers.ChoiceField(choices=Segment.choices, required=False)
    jkn_number = serializers.CharField(max_length=20, required=False)
    status = serializers.ChoiceField(choices=EnrollmentStatus.choices, required=False)
    registered_on = serializers.DateField(required=False)
    nik_updated_on = serializers.DateField(required=False)
    deactivated_on = serializers.DateField(required=False)

    def validate_jkn_number(self, value: str) -> str:
        # ASCII digits before the service compares it with the recorded number.
        return validators.validate_jkn_number(value) if value else value
