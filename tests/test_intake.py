from conftest import SAMPLES
from validations.intake import expand_paths, file_hash, validate_paths


def test_folders_expand_recursively_and_skip_hidden_entries(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.csv").write_text("x")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "y.csv").write_text("y")
    (tmp_path / "notes.docx").write_text("z")
    single = tmp_path / "single.csv"
    single.write_text("s")
    assert expand_paths([tmp_path, single]) == [tmp_path / "a" / "x.csv", single]


def test_unreadable_files_are_set_aside_and_the_rest_validated(validator):
    paths = [SAMPLES / "unreadable" / "empty.csv", SAMPLES / "messy" / "canonical.csv"]
    out = validate_paths(paths, validator)
    assert [u.path for u in out.unreadable] == [str(paths[0])]
    assert "empty.csv" in out.unreadable[0].message_vi
    assert [str(r.status) for r in out.results] == ["accepted"]
    assert out.hashes[str(paths[1])] == file_hash(paths[1])
    assert file_hash(paths[1]) != file_hash(SAMPLES / "messy" / "bom_crlf.csv")
