"""The embedding model's files are checked against their SHA-256 before they are loaded."""

import shutil

import pytest

from paperroute.search import embedder


def test_the_installed_model_and_tokenizer_pass_the_check():
    assert embedder.check_file(embedder.model_file(), embedder.MODEL_SHA256).is_file()
    assert embedder.check_file(embedder.TOKENIZER, embedder.TOKENIZER_SHA256).is_file()


def test_a_damaged_model_file_is_refused_with_what_to_do(tmp_path):
    damaged = tmp_path / "model.onnx"
    shutil.copyfile(embedder.model_file(), damaged)
    with damaged.open("r+b") as handle:  # one flipped byte in the middle of the weights
        handle.seek(damaged.stat().st_size // 2)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(embedder.EmbedderUnavailable, match=r"damaged or not the expected version.*Reinstall"):
        embedder.check_file(damaged, embedder.MODEL_SHA256)


def test_a_file_that_changes_after_its_check_is_checked_again(tmp_path):
    copy = tmp_path / "tokenizer.json"
    shutil.copyfile(embedder.TOKENIZER, copy)
    embedder.check_file(copy, embedder.TOKENIZER_SHA256)
    copy.write_text(copy.read_text().replace("[CLS]", "[XLS]", 1))
    with pytest.raises(embedder.EmbedderUnavailable, match="SHA-256"):
        embedder.check_file(copy, embedder.TOKENIZER_SHA256)
