"""Result bundles: everything a finished job used and made, as one zip.

A bundle holds the job's inputs (the VCF as uploaded and as normalised, or a design's
sequences), its outputs (every result file), an offline report where the job has one,
``provenance.json`` and a README.txt that says what each file is. Entry names are sanitised
here, whatever the uploaded file was called. The zip is written to disk file by file (never
held in memory) and kept under the hash of its contents, so a second request for the same
contents reuses it; downloads stream it from disk like any result file.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# Already compressed: deflating them again costs CPU and saves nothing.
STORED_SUFFIXES = frozenset({".gz", ".bgz", ".bw", ".bigwig", ".npz", ".png", ".zip", ".bcf"})
MAX_NAME_CHARS = 100
# Zip entries get a fixed date: the same contents give the same bytes.
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Entry:
    """One file of a bundle: ``name`` inside the zip (``outputs/scores.tsv``), where it is."""

    name: str
    path: Path
    sha256: str
    size: int
    description: str = ""


def bundle_filename(kind: str, code) -> str:
    """``genomeweb-score_variants-1a2b3c4d.zip``: what the download is saved as."""
    return f"genomeweb-{kind}-{str(code)[:8]}.zip"


def safe_name(name: str) -> str:
    """A file name that is safe inside a zip on every system: no folders, no leading dot, only
    letters, digits and ``._+-``; the suffix is kept when the name is shortened."""
    base = PurePosixPath(name.replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9._+-]+", "_", base).strip("._-") or "file"
    if len(cleaned) <= MAX_NAME_CHARS:
        return cleaned
    stem, dot, suffix = cleaned.rpartition(".")
    if not dot or len(suffix) > 10:
        return cleaned[:MAX_NAME_CHARS]
    return f"{stem[: MAX_NAME_CHARS - len(suffix) - 1]}.{suffix}"


def entry(folder: str, name: str, path: Path, sha256: str, size: int, description: str) -> Entry:
    """An entry ``folder/<safe name>`` (at the top when ``folder`` is empty)."""
    inside = f"{folder}/{safe_name(name)}" if folder else safe_name(name)
    return Entry(inside, path, sha256, size, description)


def unique_names(entries: Sequence[Entry]) -> list[Entry]:
    """The entries with repeated names told apart (``scores.tsv``, ``scores-2.tsv``)."""
    seen: set[str] = set()
    unique = []
    for item in entries:
        name, number, path = item.name, 1, PurePosixPath(item.name)
        while name in seen:
            number += 1
            name = str(path.with_stem(f"{path.stem}-{number}"))
        seen.add(name)
        unique.append(Entry(name, item.path, item.sha256, item.size, item.description))
    return unique


def contents_hash(entries: Sequence[Entry], readme: str) -> str:
    """sha256 over every entry's name and content hash, and the README: equal hashes mean
    byte-identical bundles."""
    digest = hashlib.sha256()
    for item in sorted(entries, key=lambda e: e.name):
        digest.update(f"{item.name}\t{item.sha256}\n".encode())
    digest.update(readme.encode())
    return digest.hexdigest()


def write_bundle(entries: Sequence[Entry], readme: str, path: Path) -> Path:
    """Write the zip (README.txt first) to ``path`` atomically, streaming each file from disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w", allowZip64=True) as bundle:
            _add_text(bundle, "README.txt", readme)
            for item in entries:
                _add_file(bundle, item)
        os.chmod(temporary, 0o644)  # nginx (another uid) serves it behind X-Accel-Redirect
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _add_text(bundle: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    bundle.writestr(info, text)


def _add_file(bundle: zipfile.ZipFile, item: Entry) -> None:
    info = zipfile.ZipInfo(item.name, date_time=ZIP_DATE)
    stored = PurePosixPath(item.name).suffix.lower() in STORED_SUFFIXES
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    with item.path.open("rb") as source, bundle.open(info, "w", force_zip64=True) as target:
        while chunk := source.read(1 << 20):
            target.write(chunk)


def readme(title: str, facts: Sequence[tuple[str, str]], entries: Sequence[Entry]) -> str:
    """README.txt: what the job was, then every file with what it holds and how to open it."""
    lines = [title, "=" * len(title), ""]
    lines += [f"{label}: {value}" for label, value in facts]
    lines += ["", "Files", "-----", "README.txt  this file"]
    for item in entries:
        lines.append(f"{item.name}  ({_size(item.size)})")
        lines.append(f"    {item.description or 'see provenance.json'}")
        if hint := _how_to_open(item.name):
            lines.append(f"    Open with: {hint}")
    lines += [
        "",
        "Coordinates: 0-based half-open in BED, bigWig and npz files; 1-based in VCF.",
        "",
    ]
    return "\n".join(lines)


def _how_to_open(name: str) -> str:
    suffix = "".join(PurePosixPath(name).suffixes[-2:]).lower()
    hints = {
        ".vcf.gz": "bcftools, pysam.VariantFile, IGV",
        ".bw": "pyBigWig.open, IGV, UCSC tools (bigWigToBedGraph)",
        ".npz": "numpy.load",
        ".tsv": "a spreadsheet, pandas.read_csv(sep='\\t')",
        ".html": "any web browser, offline",
        ".json": "any text editor, json.load",
        ".svg": "a web browser, Inkscape, Illustrator",
        ".png": "any image viewer",
        ".bed": "IGV, bedtools",
        ".fa": "any text editor, pyfaidx, samtools faidx",
    }
    for ending, hint in hints.items():
        if suffix.endswith(ending):
            return hint
    return ""


def _size(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return ""
