"""The default schedule of family reminders; an admin edits, switches off or adds steps afterwards."""

from django.db import migrations

STOP = " Balas STOP untuk berhenti menerima pesan ini."
STEPS = [
    (
        "selamat-hari-1",
        "Hari 1: selamat dan daftar periksa",
        "after_birth",
        1,
        "Selamat atas kelahiran {nama_bayi} pada {tanggal_lahir}! Agar jaminan JKN bayi tidak putus: "
        "1) daftarkan bayi ke BPJS paling lambat {batas_daftar}; 2) urus KK baru, akta kelahiran dan NIK bayi di "
        "{kantor_dukcapil}; 3) perbarui data bayi dengan NIK di BPJS lewat {kanal_bpjs} paling lambat {batas_nik}."
        + STOP,
    ),
    (
        "daftar-h-7",
        "7 hari sebelum batas daftar JKN",
        "before_registration",
        7,
        "Pengingat: {nama_bayi} belum terdaftar di JKN. Batas pendaftaran {batas_daftar}, {sisa_hari} hari lagi. "
        "Daftarkan lewat {kanal_bpjs}." + STOP,
    ),
    (
        "nik-h-30",
        "30 hari sebelum batas pembaruan NIK",
        "before_nik",
        30,
        "Kepesertaan JKN {nama_bayi} akan NONAKTIF bila NIK bayi belum diperbarui di BPJS sebelum {batas_nik} "
        "({sisa_hari} hari lagi). Urus NIK bayi di {kantor_dukcapil}, lalu perbarui lewat {kanal_bpjs}." + STOP,
    ),
    (
        "nik-h-7",
        "7 hari sebelum batas pembaruan NIK",
        "before_nik",
        7,
        "Tinggal {sisa_hari} hari: perbarui NIK {nama_bayi} di BPJS sebelum {batas_nik} agar JKN bayi tetap "
        "aktif. Caranya: {kanal_bpjs}." + STOP,
    ),
    (
        "nik-terbit",
        "NIK bayi sudah terbit",
        "nik_recorded",
        0,
        "NIK bayi sudah terbit, perbarui di BPJS: bawa KK dan akta {nama_bayi}, lalu perbarui lewat {kanal_bpjs} "
        "sebelum {batas_nik}." + STOP,
    ),
]


def seed(apps, schema_editor):
    ReminderStep = apps.get_model("enrollment", "ReminderStep")
    for code, name, trigger, days, template in STEPS:
        ReminderStep.objects.get_or_create(
            code=code, defaults={"name": name, "trigger": trigger, "days": days, "template": template}
        )


class Migration(migrations.Migration):
    dependencies = [("enrollment", "0013_reminders")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
