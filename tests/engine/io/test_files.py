"""File helpers: durable replacement, checkpoint files and their hashes."""

import hashlib

import pytest

from engine.io.files import replace_durably, sha256_file, weights_file


def test_replace_durably_moves_the_file_into_place(tmp_path):
    source, target = tmp_path / "new", tmp_path / "old"
    source.write_text("new")
    target.write_text("old")
    replace_durably(source, target)
    assert target.read_text() == "new" and not source.exists()


def test_weights_file_prefers_safetensors_and_names_what_is_missing(tmp_path):
    (tmp_path / "pytorch_model.bin").write_bytes(b"bin")
    assert weights_file(tmp_path).name == "pytorch_model.bin"
    (tmp_path / "model.safetensors").write_bytes(b"st")
    assert weights_file(tmp_path).name == "model.safetensors"
    assert sha256_file(tmp_path / "model.safetensors") == hashlib.sha256(b"st").hexdigest()
    with pytest.raises(ValueError, match="holds no model.safetensors or pytorch_model.bin"):
        weights_file(tmp_path / "empty")
