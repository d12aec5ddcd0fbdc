"""NIK and KK numbers are personal data (UU PDP 27/2022): masked unless the role needs them whole."""

from sejagad.roles import Capability, can


def mask_number(value: str | None) -> str:
    """``7322031704260001`` -> ``7322**********01``: the region shows, the person does not."""
    if not value:
        return ""
    return value[:4] + "*" * (len(value) - 6) + value[-2:]


def shown_to(user, value: str | None) -> str:
    """The number whole for a role that needs it, masked for every other."""
    return (value or "") if can(user, Capability.VIEW_IDENTITY_NUMBERS) else mask_number(value)


def mask_name(name: str) -> str:
    """``SITI AMINAH`` -> ``S*** A*****``: enough to recognise a typo, not to identify a stranger."""
    return " ".join(word[:1] + "*" * (len(word) - 1) for word in name.split())
