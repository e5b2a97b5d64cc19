from pathlib import Path

import pytest

from conftest import SAMPLES
from validations.intake import expand_paths, file_hash, validate_paths


def test_folders_expand_recursively_and_skip_hidden_entries(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.csv").write_text("x")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "y.csv").write_text("y")
    (tmp_path / ".upload.csv.part").write_text("in progress")
    (tmp_path / "notes.docx").write_text("z")
    (tmp_path / "manifest.yaml").write_text("tokens: {}")  # the inbox manifest, not a file sent
    (tmp_path / "a" / "manifest.yaml").write_text("x")  # in a sender's folder: a file sent
    single = tmp_path / "single.csv"
    single.write_text("s")
    assert expand_paths([tmp_path, single]) == [
        tmp_path / "a" / "manifest.yaml",
        tmp_path / "a" / "x.csv",
        tmp_path / "notes.docx",
        single,
    ]


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("03386_2024-06.xls", b"\xd0\xcf\x11\xe0" + bytes(100), "old_excel"),
        ("03386_2024-06.ods", b"PK\x03\x04" + bytes(100), "old_excel"),
        ("03386_2024-06.xlsb", b"PK\x03\x04" + bytes(100), "old_excel"),
        ("03386_2024-06.pdf", b"%PDF-1.4", "extension_not_accepted"),
        ("03386_2024-06", b"\x00\x01binary", "binary"),
        ("03386_2024-06.csv ", b"", "file_empty"),
        ("03386_2024-06.xlsx ", b"PK\x03\x04broken", "xlsx_corrupt"),
        ("bao cao thang 6", b"<html></html>", "html_not_csv"),
    ],
)
def test_every_file_in_an_inbox_gets_an_answer(tmp_path, validator, name, data, code):
    """Whatever its name, a file in a folder is found, read or refused with a stable code,
    and answered: never skipped, never silently left in the inbox."""
    inbox = tmp_path / "inbox" / "03386"
    inbox.mkdir(parents=True)
    (inbox / name).write_bytes(data)
    found = expand_paths([tmp_path / "inbox"])
    assert found == [inbox / name]
    out = validate_paths(found, validator)
    assert [(Path(u.path).name, u.code) for u in out.unreadable] == [(name, code)]
    assert name in out.unreadable[0].message_en or name.rstrip() in out.unreadable[0].message_en


def test_a_name_ending_in_a_space_is_read_like_any_other(tmp_path, validator):
    inbox = tmp_path / "inbox" / "03386"
    inbox.mkdir(parents=True)
    for name in ("03386_2024-06.csv ", "03386_2024-06 "):
        (inbox / name).write_bytes((SAMPLES / "messy" / "canonical.csv").read_bytes())
    out = validate_paths(expand_paths([tmp_path / "inbox"]), validator)
    assert out.unreadable == [] and [str(r.status) for r in out.results] == ["accepted"] * 2


def test_unreadable_files_are_set_aside_and_the_rest_validated(validator):
    paths = [SAMPLES / "unreadable" / "empty.csv", SAMPLES / "messy" / "canonical.csv"]
    out = validate_paths(paths, validator)
    assert [u.path for u in out.unreadable] == [str(paths[0])]
    assert "empty.csv" in out.unreadable[0].message_vi
    assert [str(r.status) for r in out.results] == ["accepted"]
    assert out.hashes[str(paths[1])] == file_hash(paths[1])
    assert file_hash(paths[1]) != file_hash(SAMPLES / "messy" / "bom_crlf.csv")
