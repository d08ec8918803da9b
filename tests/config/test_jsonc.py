"""Kea's JSON dialect: comments, includes, extra commas, positions."""
import pytest

from kea_tools.config.jsonc import parse, read_source
from kea_tools.errors import SourceError


def load(tmp_path, text, name="c.json"):
    path = tmp_path / name
    path.write_text(text)
    warnings = []
    source = read_source(str(path))
    return parse(source, warnings), warnings, source


def test_three_comment_styles_and_markers_inside_strings(tmp_path):
    value, warnings, _ = load(tmp_path, '''# shell
// c++
{ /* block
   over lines */ "a": "http://x#y/*z*/", # tail
  "b": 1 // tail
}''')
    assert value == {"a": "http://x#y/*z*/", "b": 1}
    assert warnings == []


def test_unclosed_block_comment(tmp_path):
    with pytest.raises(SourceError) as err:
        load(tmp_path, '{\n  "a": 1 /* never closed\n}')
    assert (err.value.line, err.value.col) == (2, 10)
    assert "comment not closed" in err.value.message


def test_extra_commas_warn_and_reals_without_leading_digit(tmp_path):
    value, warnings, _ = load(tmp_path, '{"a": [1, 2, ], "t": .5, }')
    assert value == {"a": [1, 2], "t": 0.5}
    assert len(warnings) == 2
    assert warnings[0].startswith(f"{tmp_path}/c.json:1:12: Extraneous comma")


def test_duplicate_key_is_an_error_with_both_positions(tmp_path):
    with pytest.raises(SourceError) as err:
        load(tmp_path, '{"a": 1,\n "a": 2}')
    assert (err.value.line, err.value.col) == (2, 2)
    assert "previous at" in err.value.message and ":1:2)" in err.value.message


@pytest.mark.parametrize("text, line, col, words", [
    ('{"a": 1 "b": 2}', 1, 9, 'expecting "," or "}"'),
    ('{"a": tru}', 1, 7, "unexpected word"),
    ('{"a": [1,\n 2 3]}', 2, 4, 'expecting "," or "]"'),
    ('{"a": "x\\q"}', 1, 7, "invalid string"),
    ('{"a": 1}}', 1, 9, "expecting end of file"),
    ('', 1, 1, "unexpected end of file"),
])
def test_syntax_errors_point_at_the_token(tmp_path, text, line, col, words):
    with pytest.raises(SourceError) as err:
        load(tmp_path, text)
    assert (err.value.line, err.value.col) == (line, col)
    assert words in err.value.message


def test_include_beside_the_including_file_and_positions_inside_it(tmp_path, monkeypatch):
    sub = tmp_path / "etc"
    sub.mkdir()
    (sub / "subnets.json").write_text('"x": 1,\n"y": [true, false]')
    (sub / "main.json").write_text('{\n  <?include "subnets.json"?>,\n  "z": null\n}')
    monkeypatch.chdir(tmp_path)
    source = read_source(str(sub / "main.json"))
    assert parse(source) == {"x": 1, "y": [True, False], "z": None}
    assert source.where(source.locate(("y", 1))) == (str(sub / "subnets.json"), 2, 13)
    assert source.where(source.locate(("z",), key=True)) == (str(sub / "main.json"), 3, 3)


def test_include_relative_to_working_directory_first(tmp_path, monkeypatch):
    (tmp_path / "inc.json").write_text('"from": "cwd"')
    sub = tmp_path / "conf"
    sub.mkdir()
    (sub / "inc.json").write_text('"from": "beside"')
    (sub / "main.json").write_text('{ <?include "inc.json"?> }')
    monkeypatch.chdir(tmp_path)
    assert parse(read_source(str(sub / "main.json"))) == {"from": "cwd"}


def test_missing_include_and_recursion(tmp_path):
    (tmp_path / "a.json").write_text('{\n <?include "nope.json"?> }')
    with pytest.raises(SourceError) as err:
        read_source(str(tmp_path / "a.json"))
    assert (err.value.line, err.value.col) == (2, 2)
    assert "can't open include file nope.json" in err.value.message
    loop = tmp_path / "loop.json"
    loop.write_text(f'<?include "{loop}"?>')
    with pytest.raises(SourceError) as err:
        read_source(str(loop))
    assert "too many nested include" in err.value.message


def test_locate_through_fast_path(tmp_path):
    value, _, source = load(tmp_path, '{"Dhcp4": {\n  "subnet4": [\n    {"id": 1},\n    {"id": 2}]}}')
    assert value["Dhcp4"]["subnet4"][1]["id"] == 2
    assert source.where(source.locate(("Dhcp4", "subnet4", 1, "id"))) == (f"{tmp_path}/c.json", 4, 12)
    assert source.where(source.locate(("Dhcp4", "subnet4", 1, "id"), key=True))[1:] == (4, 6)
    # A path that stops at a missing key points at the deepest existing value.
    assert source.where(source.locate(("Dhcp4", "subnet4", 0, "pools")))[1:] == (3, 5)
