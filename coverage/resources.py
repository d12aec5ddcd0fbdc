"""django-import-export resources: the admin's small imports and exports, in the same columns as our files.

Large files go through ``services`` (staging table, one upsert); these serve a few thousand rows at most.
"""

from django.utils.translation import gettext as _
from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget

from coverage.models import ParticipantCount, PopulationCount
from sejagad.models import Region
from sejagad.text import ascii_digits, control_character


class CleanCellsResource(resources.ModelResource):
    """Cells as the file imports read them: digits of any script in ASCII; a control character (PostgreSQL
    refuses NUL) fails its row with a message instead of a database error."""

    def before_import_row(self, row, **kwargs):
        for column, value in row.items():
            if not isinstance(value, str):
                continue
            if char := control_character(value):
                raise ValueError(
                    _("Sel %(column)s berisi karakter tidak sah (%(char)s).") % {"column": column, "char": char}
                )
            row[column] = ascii_digits(value)
        check_region_in_scope(row, kwargs.get("user"))


def check_region_in_scope(row, user) -> None:
    """An admin imports only the regions inside their own, as the import page allows (issue: scope on every
    write path)."""
    scope = getattr(user, "scope_region", None)
    code = str(row.get("kode_wilayah") or "").strip()
    if scope is not None and code and not scope.contains_code(code):
        raise ValueError(_("Wilayah %(code)s di luar wilayah Anda.") % {"code": code[:20]})


class PopulationResource(CleanCellsResource):
    region = fields.Field(attribute="region", column_name="kode_wilayah", widget=ForeignKeyWidget(Region, "code"))
    period = fields.Field(attribute="period", column_name="periode")
    total = fields.Field(attribute="total", column_name="jumlah_penduduk")
    male = fields.Field(attribute="male", column_name="laki_laki")
    female = fields.Field(attribute="female", column_name="perempuan")
    source = fields.Field(attribute="source", column_name="sumber")

    class Meta:
        model = PopulationCount
        import_id_fields = ("region", "period")
        fields = ("region", "period", "total", "male", "female", "source")
        skip_unchanged = True


class ParticipantResource(CleanCellsResource):
    region = fields.Field(attribute="region", column_name="kode_wilayah", widget=ForeignKeyWidget(Region, "code"))
    period = fields.Field(attribute="period", column_name="periode")
    segment = fields.Field(attribute="segment", column_name="segmen")
    total = fields.Field(attribute="total", column_name="jumlah_peserta")
    active = fields.Field(attribute="active", column_name="peserta_aktif")

    class Meta:
        model = ParticipantCount
        import_id_fields = ("region", "period", "segment")
        fields = ("region", "period", "segment", "total", "active")
        skip_unchanged = True
