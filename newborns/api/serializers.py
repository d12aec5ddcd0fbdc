"""What the newborn API reads and writes: input serializers parse and check, services write."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from newborns import validators
from newborns.models import DocumentStatus, Newborn, Segment, Sex
from newborns.privacy import mask_number, mask_phone
from sejagad.models import Facility, Region, RegionLevel, User
from sejagad.roles import Role
from sejagad.text import GuardedTextSerializerMixin, clean_number
from sejagad.wilayah import dotted

DOCUMENT_FIELDS = ("kk_added_on", "akta_number", "akta_issued_on", "nik", "nik_issued_on")


class MotherSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)
    nik = serializers.CharField(read_only=True)
    kk_number = serializers.CharField(read_only=True)
    phone = serializers.CharField(read_only=True)
    reminder_consent = serializers.BooleanField(source="can_be_reminded", read_only=True)
    reminders_stopped_at = serializers.DateTimeField(read_only=True)


class NewbornSerializer(serializers.ModelSerializer):
    """The read representation; NIK and KK numbers are masked when the context says so."""

    facility = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    facility_name = serializers.CharField(source="facility.name", read_only=True, allow_null=True)
    desa = serializers.CharField(source="desa_id", read_only=True)
    desa_name = serializers.CharField(source="desa.name", read_only=True)
    kecamatan = serializers.CharField(source="desa.parent_id", read_only=True)
    kecamatan_name = serializers.CharField(source="desa.parent.name", read_only=True)
    mother = MotherSerializer(read_only=True)
    document_status = serializers.ChoiceField(choices=DocumentStatus.choices, read_only=True)
    # The two JKN deadlines (newborns.deadlines), so a client that just recorded a birth can say them at once.
    registration_deadline = serializers.DateField(read_only=True)
    nik_deadline = serializers.DateField(read_only=True)

    class Meta:
        model = Newborn
        fields = [
            "id",
            "temporary_name",
            "given_name",
            "birth_date",
            "birth_time",
            "sex",
            "birth_order",
            "weight_grams",
            "length_cm",
            "facility",
            "facility_name",
            "desa",
            "desa_name",
            "kecamatan",
            "kecamatan_name",
            "mother",
            "nik",
            "kk_added_on",
            "akta_number",
            "akta_issued_on",
            "nik_issued_on",
            "document_status",
            "registration_deadline",
            "nik_deadline",
            "voided_at",
            "void_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if self.context.get("mask_identity_numbers", True):
            for numbers, field in ((data, "nik"), (data["mother"], "nik"), (data["mother"], "kk_number")):
                if numbers[field]:
                    numbers[field] = mask_number(numbers[field])
            data["mother"]["phone"] = mask_phone(data["mother"]["phone"])
        return data


class _ConfirmableSerializer(GuardedTextSerializerMixin, serializers.Serializer):
    confirm_warnings = serializers.BooleanField(
        required=False,
        default=False,
        help_text=gettext_lazy("Terima peringatan kode kecamatan yang tidak ada dalam daftar Kemendagri saat ini."),
    )

    def _confirmed(self) -> bool:
        # Field validators run in declaration order, so a NIK check cannot wait for the parsed flag.
        try:
            return self.fields["confirm_warnings"].to_internal_value(self.initial_data.get("confirm_warnings", False))
        except serializers.ValidationError:
            return False


def _desa(value: str) -> Region:
    code = dotted(value)
    desa = Region.objects.filter(code=code, level=RegionLevel.DESA_KELURAHAN).first()
    if desa is None:
        raise serializers.ValidationError(
            _("Kode desa/kelurahan %(code)s tidak ada dalam daftar wilayah yang dimuat.") % {"code": code}
        )
    return desa


class NewbornCreateSerializer(_ConfirmableSerializer):
    """A birth as a midwife reports it; the numbers are checked as the registration form checks them."""

    mother_nik = serializers.CharField(max_length=30, help_text=gettext_lazy("NIK ibu, 16 digit."))
    mother_name = serializers.CharField(max_length=100)
    # Optional, as on the birth form: a family may not have its KK at hand at the birth.
    kk_number = serializers.CharField(
        max_length=30, required=False, allow_blank=True, default="", help_text=gettext_lazy("Nomor KK ibu, 16 digit.")
    )
    birth_date = serializers.DateField(input_formats=["%Y-%m-%d"], help_text=gettext_lazy("YYYY-MM-DD"))
    birth_time = serializers.TimeField(required=False, allow_null=True)
    sex = serializers.ChoiceField(choices=Sex.choices)
    birth_order = serializers.IntegerField(min_value=1, max_value=9, default=1)
    weight_grams = serializers.IntegerField()
    length_cm = serializers.DecimalField(max_digits=4, decimal_places=1, required=False, allow_null=True)
    facility = serializers.PrimaryKeyRelatedField(
        queryset=Facility.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text=gettext_lazy(
            "Tempat lahir; kosong (null) untuk lahir di rumah. Untuk bidan, bawaannya fasilitasnya sendiri."
        ),
    )
    desa = serializers.CharField(
        max_length=13,
        help_text=gettext_lazy("Kode Kemendagri desa/kelurahan domisili, mis. 73.22.03.2004 atau 7322032004."),
    )
    phone = serializers.CharField(
        max_length=30,
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy("Nomor HP keluarga: 08..., 62... atau +62...; disimpan sebagai +62..."),
    )
    reminder_consent = serializers.BooleanField(
        required=False,
        default=False,
        help_text=gettext_lazy("Ibu setuju menerima pengingat batas JKN lewat WhatsApp/SMS (butuh nomor HP)."),
    )
    mother_jkn_number = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    mother_jkn_segment = serializers.ChoiceField(choices=Segment.choices, required=False, allow_blank=True, default="")
    confirm_mother_name = serializers.BooleanField(
        required=False,
        default=False,
        help_text=gettext_lazy("Benarkan nama ibu yang berbeda dari nama yang tercatat untuk NIK ini."),
    )
    submission_key = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text=gettext_lazy(
            "Kunci sekali pakai: kiriman ulang dengan kunci yang sama mengembalikan catatan pertama."
        ),
    )

    def validate_mother_nik(self, value: str) -> str:
        return validators.validate_mother_nik(value, confirmed=self._confirmed())

    def validate_kk_number(self, value: str) -> str:
        return validators.validate_kk_number(value, confirmed=self._confirmed()) if value else ""

    def validate_mother_jkn_number(self, value: str) -> str:
        return validators.validate_jkn_number(value) if value else ""

    def validate_phone(self, value: str) -> str:
        return validators.normalize_phone(value)

    def validate_birth_date(self, value):
        return validators.validate_birth_date(value)

    def validate_weight_grams(self, value: int) -> int:
        return validators.validate_weight(value)

    def validate_desa(self, value: str) -> Region:
        return _desa(value)

    def validate(self, attrs):
        user = self.context["request"].user
        if user.role == Role.BIDAN and "facility" not in attrs:
            attrs["facility"] = user.facility
        return attrs


class NewbornUpdateSerializer(GuardedTextSerializerMixin, serializers.Serializer):
    """A correction (services.correct_birth): only the fields sent change; a change to the birth or the
    mother needs a ``reason``. The service runs the same checks as a registration."""

    given_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    birth_date = serializers.DateField(input_formats=["%Y-%m-%d"], required=False)
    birth_time = serializers.TimeField(required=False, allow_null=True)
    birth_order = serializers.IntegerField(min_value=1, max_value=9, required=False)
    sex = serializers.ChoiceField(choices=Sex.choices, required=False)
    weight_grams = serializers.IntegerField(required=False)
    length_cm = serializers.DecimalField(max_digits=4, decimal_places=1, required=False, allow_null=True)
    desa = serializers.CharField(max_length=13, required=False)
    facility = serializers.PrimaryKeyRelatedField(
        queryset=Facility.objects.filter(is_active=True), required=False, allow_null=True
    )
    attending_midwife = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(role=Role.BIDAN, is_active=True), required=False, allow_null=True
    )
    mother_nik = serializers.CharField(max_length=30, required=False)
    mother_name = serializers.CharField(max_length=100, required=False)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    confirm_warnings = serializers.BooleanField(required=False, default=False)
    confirm_mother_name = serializers.BooleanField(required=False, default=False)

    def validate_desa(self, value: str) -> Region:
        return _desa(value)

    def validate_mother_nik(self, value: str) -> str:
        # The service compares it with the recorded NIK: the same number in full-width digits is no change.
        # A kecamatan missing from today's list is not questioned on a correction (the service's rule).
        return validators.validate_mother_nik(value, confirmed=True)

    def validate(self, attrs):
        # Unknown keys are normally dropped in silence; a document sent here would look saved and be lost.
        sent_documents = [f for f in DOCUMENT_FIELDS if f in self.initial_data]
        if sent_documents:
            message = _("Dokumen kependudukan (KK, akta, NIK) dicatat lewat /api/newborns/%(id)s/documents/.") % {
                "id": self.instance.pk
            }
            raise serializers.ValidationError({f: message for f in sent_documents})
        return attrs

    def correction_kwargs(self) -> dict:
        # A partial update applies no defaults.
        data = dict(self.validated_data)
        data["confirmed"] = data.pop("confirm_warnings", False)
        return data


class ReminderContactSerializer(GuardedTextSerializerMixin, serializers.Serializer):
    """The family's number and the mother's consent to reminders (services.set_reminder_contact)."""

    phone = serializers.CharField(max_length=30, allow_blank=True)
    reminder_consent = serializers.BooleanField()

    def validate_phone(self, value: str) -> str:
        return validators.normalize_phone(value)


class ReasonSerializer(GuardedTextSerializerMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class NewbornDocumentsSerializer(_ConfirmableSerializer):
    """What Dukcapil has issued; a field left out keeps the value already recorded."""

    kk_added_on = serializers.DateField(required=False, allow_null=True)
    akta_number = serializers.CharField(max_length=50, required=False, allow_blank=True)
    akta_issued_on = serializers.DateField(required=False, allow_null=True)
    nik = serializers.CharField(max_length=30, required=False, allow_blank=True, allow_null=True)
    nik_issued_on = serializers.DateField(required=False, allow_null=True)

    def validate_nik(self, value: str | None) -> str | None:
        # ASCII digits before the service checks it and before it is compared with the recorded NIK.
        return clean_number(value) if value else value

    def merged_with(self, newborn: Newborn) -> dict:
        """The document values to record: those sent, and the recorded ones for the rest."""
        data = self.validated_data
        values = {field: data[field] if field in data else getattr(newborn, field) for field in DOCUMENT_FIELDS}
        # A NIK already accepted once (perhaps with a confirmed warning) is not questioned again.
        values["confirmed"] = data["confirm_warnings"] or (values["nik"] or None) == newborn.nik
        return values


class DuplicateBirthSerializer(serializers.Serializer):
    detail = serializers.CharField()
    existing_id = serializers.IntegerField(allow_null=True)  # null: recorded outside the user's scope
    existing_url = serializers.CharField(allow_null=True)
