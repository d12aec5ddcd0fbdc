ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"]


def normalize_name(name: str) -> str:
    """Capitals and single spaces, as BPJS writes names; a typed 'Ny.' prefix is dropped."""
    words = " ".join((name or "").split()).upper().split(" ")
    while words and words[0] in {"NY", "NY.", "NYONYA"}:
        words = words[1:]
    return " ".join(words)


def temporary_name(mother_name: str, *, birth_order: int = 1, multiple: bool = False) -> str:
    """``By. Ny. SITI AMINAH``; each baby of a multiple birth gets its order in Roman numerals (I, II, III)."""
    name = f"By. Ny. {normalize_name(mother_name)}"
    if multiple or birth_order > 1:
        name += f" {ROMAN[birth_order - 1]}"
    return name
