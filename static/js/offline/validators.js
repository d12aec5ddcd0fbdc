// The checks of a birth that need no server, run on the phone before a birth is kept with no signal.
// They mirror newborns/validators.py word for word; tests/newborns/validator_cases.json is run against
// both (tests/newborns/test_validator_cases.py and tests/browser/test_offline_validators.py), so the two
// cannot drift apart. What needs the server's lists (a NIK's kecamatan code against today's Kemendagri
// list) is checked when the birth is sent.
(function (root) {
  "use strict";
  // Provinces python-stdnum knows (stdnum/id/loc.dat); a test holds this list equal to stdnum's.
  var PROVINCES = ["11", "12", "13", "14", "15", "16", "17", "18", "19", "21", "31", "32", "33", "34", "35", "36",
    "51", "52", "53", "61", "62", "63", "64", "71", "72", "73", "74", "75", "76", "81", "82", "91", "94"];
  var MIN_WEIGHT = 300, MAX_WEIGHT = 7000;

  function fail(message, code) { return { value: null, error: message, code: code }; }
  function ok(value) { return { value: value, error: null, code: null }; }

  // A decimal digit of any script as its ASCII digit: Unicode's digit blocks are runs of ten from zero.
  function asciiDigit(ch) {
    var cp = ch.codePointAt(0), start = cp;
    while (start > 0 && cp - start < 9 && /\p{Nd}/u.test(String.fromCodePoint(start - 1))) start -= 1;
    // A run longer than ten (mathematical digits): the position within the run still gives the digit.
    return String((cp - start) % 10);
  }

  // sejagad.text.clean_number: ASCII digits, without spaces, dots or dashes.
  function cleanNumber(value) {
    return String(value == null ? "" : value)
      .replace(/\p{Nd}/gu, function (ch) { return /[0-9]/.test(ch) ? ch : asciiDigit(ch); })
      .replace(/[.\-\uff0e\uff0d\s]/g, "");
  }

  function digits(value, length, label) {
    var number = cleanNumber(value);
    if (!/^[0-9]+$/.test(number)) return fail(label + " hanya boleh berisi angka.", "format");
    if (number.length !== length) {
      return fail(label + " harus " + length + " digit (tertulis " + number.length + " digit).", "length");
    }
    return ok(number);
  }

  function parseIso(text) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(text || ""));
    if (!m) return null;
    return makeDate(+m[1], +m[2], +m[3]);
  }

  // A calendar date as {y, m, d}, or null if it does not exist.
  function makeDate(y, m, d) {
    var t = new Date(Date.UTC(y, m - 1, d));
    t.setUTCFullYear(y);
    if (t.getUTCFullYear() !== y || t.getUTCMonth() !== m - 1 || t.getUTCDate() !== d) return null;
    return { y: y, m: m, d: d };
  }

  function compare(a, b) { return (a.y - b.y) || (a.m - b.m) || (a.d - b.d); }
  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function localToday() {
    var now = new Date();
    return { y: now.getFullYear(), m: now.getMonth() + 1, d: now.getDate() };
  }

  // newborns.validators.nik_birth_date: the date in the century that puts it on or before the reference.
  function nikBirthDate(number, reference) {
    var day = parseInt(number.slice(6, 8), 10) % 40, month = parseInt(number.slice(8, 10), 10);
    var year = parseInt(number.slice(10, 12), 10), century = Math.floor(reference.y / 100) * 100;
    var born = makeDate(century + year, month, day);
    if (!born) return null;
    return compare(born, reference) <= 0 ? born : makeDate(century - 100 + year, month, day);
  }

  function nik(value, options) {
    var reference = (options && options.today) || localToday();
    var checked = digits(value, 16, "NIK");
    if (checked.error) return checked;
    var number = checked.value, day = parseInt(number.slice(6, 8), 10);
    if (!((day >= 1 && day <= 31) || (day >= 41 && day <= 71))) {
      return fail("Tanggal lahir pada NIK tidak mungkin: digit 7-8 harus 01-31 (laki-laki) atau 41-71 (perempuan).", "date");
    }
    if (!nikBirthDate(number, reference)) return fail("Tanggal lahir pada NIK (digit 7-12) bukan tanggal yang ada.", "date");
    if (PROVINCES.indexOf(number.slice(0, 2)) < 0) {
      return fail("Kode provinsi/kabupaten " + number.slice(0, 4) + " pada NIK tidak dikenal.", "region");
    }
    return ok(number);
  }

  function isFemale(number) { return parseInt(number.slice(6, 8), 10) > 40; }

  function motherNik(value, options) {
    var checked = nik(value, options);
    if (checked.error) return checked;
    if (!isFemale(checked.value)) {
      return fail("NIK ibu harus NIK perempuan (tanggal lahir pada NIK ditambah 40); NIK ini milik laki-laki.", "sex");
    }
    return checked;
  }

  function babyNik(value, birthDate, sex, options) {
    var checked = nik(value, options);
    if (checked.error) return checked;
    var born = typeof birthDate === "string" ? parseIso(birthDate) : birthDate;
    var expected = pad(born.d + (sex === "P" ? 40 : 0)) + pad(born.m) + pad(born.y % 100);
    var actual = checked.value.slice(6, 12);
    if (actual !== expected) {
      return fail("NIK tidak cocok dengan bayi: digit 7-12 seharusnya " + expected + " (lahir " + pad(born.d) + "-" +
        pad(born.m) + "-" + born.y + ", " + (sex === "P" ? "perempuan" : "laki-laki") + "), tertulis " + actual + ".",
        "mismatch");
    }
    return checked;
  }

  // newborns.validators.validate_mother_age: the mother's age on the day of the birth, from her NIK. Under 10
  // is impossible; under 15 or over 55 is a warning the user confirms (options.confirmed).
  var MIN_MOTHER_AGE = 10, USUAL_MOTHER_AGES = [15, 55];
  function motherAge(value, birthDateValue, options) {
    var number = cleanNumber(value);
    var born = typeof birthDateValue === "string" ? parseIso(birthDateValue) : birthDateValue;
    var mother = nikBirthDate(number, born);
    var age = born.y - mother.y - ((born.m < mother.m || (born.m === mother.m && born.d < mother.d)) ? 1 : 0);
    if (age < MIN_MOTHER_AGE) {
      return fail("NIK ibu ini berarti ibu berumur " + age + " tahun saat melahirkan: tidak mungkin. Periksa NIK ibu.",
        "mother_too_young");
    }
    if ((age < USUAL_MOTHER_AGES[0] || age > USUAL_MOTHER_AGES[1]) && !(options && options.confirmed)) {
      return fail("NIK ibu ini berarti ibu berumur " + age + " tahun saat melahirkan. Periksa NIK ibu; bila memang " +
        "benar, centang konfirmasi lalu simpan.", "unusual_mother_age");
    }
    return ok(age);
  }

  function birthDate(value, options) {
    var today = (options && options.today) || localToday();
    var born = typeof value === "string" ? parseIso(value) : value;
    if (!born) return fail("Masukkan tanggal yang valid.", "invalid");
    if (compare(born, today) > 0) return fail("Tanggal lahir tidak boleh di masa depan.", "future");
    // today minus one year as dateutil's relativedelta counts it: 29 Feb gives 28 Feb.
    var yearAgo = makeDate(today.y - 1, today.m, today.d) || makeDate(today.y - 1, today.m, today.d - 1);
    if (compare(born, yearAgo) < 0) {
      return fail("Kelahiran lebih dari satu tahun yang lalu tidak dicatat sebagai bayi baru lahir. " +
        "Arahkan keluarga ke Disdukcapil untuk akta dan NIK, lalu daftarkan ke BPJS dengan NIK.", "too_old");
    }
    return ok(born.y + "-" + pad(born.m) + "-" + pad(born.d));
  }

  function weight(value) {
    var grams = typeof value === "number" ? value : Number(String(value).trim());
    if (!Number.isInteger(grams)) return fail("Masukkan keseluruhan angka bilangan.", "invalid");
    if (grams < MIN_WEIGHT || grams > MAX_WEIGHT) return fail("Berat lahir harus antara 300 dan 7.000 gram.", "weight");
    return ok(grams);
  }

  root.SejagadValidators = {
    PROVINCES: PROVINCES, cleanNumber: cleanNumber, parseIso: parseIso,
    nik: nik, motherNik: motherNik, babyNik: babyNik, motherAge: motherAge, birthDate: birthDate, weight: weight,
  };
})(typeof self !== "undefined" ? self : this);
