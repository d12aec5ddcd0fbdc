"""django-import-export resource for the admin's export: the worklist export's columns and cell rules."""

from django.utils import timezone
from import_export import fields, resources

from enrollment import exports
from enrollment.models import Enrollment

# "Nomor kartu" -> "nomor_kartu": the resource's field names, in the export's column order.
HEADER_OF = {column.header.lower().replace(" ", "_"): column.header for column in exports.COLUMNS}
FIELD_NAMES = tuple(HEADER_OF)


def _field(name: str) -> fields.Field:
    return fields.Field(column_name=HEADER_OF[name], readonly=True)


class EnrollmentResource(resources.ModelResource):
    """Export only: enrollments change through ``services.update_enrollment`` or the reconciliation,
    whose rules an admin import would skip. Cells come from ``exports.row_converter``, so masking,
    formula escaping and days left are the same as in the liaison's export."""

    nomor_kartu = _field("nomor_kartu")
    nama_sementara = _field("nama_sementara")
    nama = _field("nama")
    nik = _field("nik")
    nik_ibu = _field("nik_ibu")
    nomor_kk = _field("nomor_kk")
    tanggal_lahir = _field("tanggal_lahir")
    jenis_kelamin = _field("jenis_kelamin")
    segmen = _field("segmen")
    fasilitas = _field("fasilitas")
    desa = _field("desa")
    kecamatan = _field("kecamatan")
    batas_waktu = _field("batas_waktu")
    sisa_hari = _field("sisa_hari")
    status = _field("status")

    class Meta:
        model = Enrollment
        fields = FIELD_NAMES
        export_order = FIELD_NAMES

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user
        self._convert = exports.row_converter(user, today=timezone.localdate())

    def filter_export(self, queryset, **kwargs):
        # The admin's changelist queryset, given what the worklist export reads: no query per row.
        return queryset.select_related("newborn__mother", "newborn__desa__parent", "newborn__facility")

    def export_resource(self, instance, selected_fields=None, **kwargs):
        values = self._convert(tuple(_value(instance, source) for source in exports.SOURCES))
        # "" for nothing: IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT turns every cell into str(), None into "None".
        cells = dict(zip(FIELD_NAMES, ("" if v is None else v for v in values), strict=True))
        return [cells[self.get_field_name(field)] for field in self.get_export_fields(selected_fields)]


def _value(instance, source: str):
    value = instance
    for part in source.split("__"):
        value = getattr(value, part, None) if value is not None else None
    return value
