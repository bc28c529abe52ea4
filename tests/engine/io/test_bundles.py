"""Bundles: safe entry names, a zip written from disk, equal contents give equal hashes."""

import hashlib
import zipfile
from pathlib import Path

import pytest

from engine.io.bundles import (
    Entry,
    contents_hash,
    entry,
    readme,
    safe_name,
    unique_names,
    write_bundle,
)


@pytest.mark.parametrize(
    "name, safe",
    [
        ("scores.tsv", "scores.tsv"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\calls.vcf.gz", "calls.vcf.gz"),
        (".hidden", "hidden"),
        ("my calls (final) ü.vcf", "my_calls_final_.vcf"),
        ("<script>alert(1)</script>.vcf", "script_.vcf"),  # "/" is a folder: dropped
        ("", "file"),
        ("...", "file"),
        ("a" * 300 + ".vcf.gz", "a" * 97 + ".gz"),
    ],
)
def test_entry_names_are_sanitised(name, safe):
    assert safe_name(name) == safe
    assert len(safe_name(name)) <= 100


def make_file(folder: Path, name: str, content: bytes) -> Entry:
    path = folder / name
    path.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    return entry("outputs", name, path, digest, len(content), f"the {name} file")


def test_repeated_names_are_told_apart(tmp_path):
    first = make_file(tmp_path, "scores.tsv", b"a")
    (tmp_path / "b").mkdir()
    second = make_file(tmp_path / "b", "scores.tsv", b"b")
    names = [e.name for e in unique_names([first, second, second])]
    assert names == ["outputs/scores.tsv", "outputs/scores-2.tsv", "outputs/scores-3.tsv"]


def test_the_bundle_holds_every_file_byte_for_byte_and_the_readme(tmp_path):
    entries = [
        make_file(tmp_path, "scores.tsv", b"chrom\tpos\n" * 1000),
        make_file(tmp_path, "tracks.bw", bytes(range(256)) * 100),
    ]
    text = readme("Variant effects", [("Model", "yeast-demo")], entries)
    path = write_bundle(entries, text, tmp_path / "out" / "bundle.zip")
    with zipfile.ZipFile(path) as bundle:
        assert bundle.namelist() == ["README.txt", "outputs/scores.tsv", "outputs/tracks.bw"]
        assert bundle.read("outputs/scores.tsv") == b"chrom\tpos\n" * 1000
        assert bundle.getinfo("outputs/tracks.bw").compress_type == zipfile.ZIP_STORED
        assert bundle.getinfo("outputs/scores.tsv").compress_type == zipfile.ZIP_DEFLATED
        assert bundle.testzip() is None
        notes = bundle.read("README.txt").decode()
    assert "Model: yeast-demo" in notes and "the scores.tsv file" in notes
    assert "pyBigWig.open" in notes  # how to open a bigWig
    assert not list((tmp_path / "out").glob(".*"))  # no temporary file left


def test_equal_contents_give_equal_hashes_and_identical_bytes(tmp_path):
    entries = [make_file(tmp_path, "a.tsv", b"1"), make_file(tmp_path, "b.json", b"{}")]
    text = readme("t", [], entries)
    one = write_bundle(entries, text, tmp_path / "one.zip").read_bytes()
    two = write_bundle(list(reversed(entries))[::-1], text, tmp_path / "two.zip").read_bytes()
    assert one == two
    assert contents_hash(entries, text) == contents_hash(entries[::-1], text)
    changed = [entries[0], make_file(tmp_path, "b.json", b"{ }")]
    assert contents_hash(changed, text) != contents_hash(entries, text)
