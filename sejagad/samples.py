"""Sample import files, offered as downloads on the pages that take such files."""

from pathlib import Path

from django.http import FileResponse, Http404


def sample_names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))


def sample_download(directory: Path, name: str) -> FileResponse:
    """``name`` from ``directory`` as an attachment. The name is looked up among the files there, never
    joined onto the path, so no URL can reach another file."""
    if name not in sample_names(directory):
        raise Http404
    return FileResponse((directory / name).open("rb"), as_attachment=True, filename=name)
