from pathlib import Path

from vidkp.io.sources import Skipped, Source, expand, expand_inputs, kind_of


def _touch(p: Path) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(b"x")
    return p


def test_directory_is_walked_recursively_sorted_and_filtered(tmp_path):
    _touch(tmp_path / "b.mp4")
    _touch(tmp_path / "a.JPG")
    _touch(tmp_path / "sub" / "c.mov")
    _touch(tmp_path / "notes.txt")
    _touch(tmp_path / ".hidden.mp4")
    _touch(tmp_path / ".cache" / "d.mp4")
    got = expand([str(tmp_path)])
    assert [s.rel for s in got] == ["a.JPG", "b.mp4", "sub/c.mov"]
    assert [s.kind for s in got] == ["image", "video", "video"]
    assert got[0].path == str(tmp_path / "a.JPG")


def test_explicit_files_are_kept_whatever_their_extension_and_missing_ones_too(tmp_path):
    odd = _touch(tmp_path / "clip.weird")
    got = expand([str(odd), str(tmp_path / "missing.mp4")])
    assert {s.path for s in got} == {str(odd), str(tmp_path / "missing.mp4")}
    assert kind_of("x.png") == "image" and kind_of("x.weird") == "video"


def test_list_file_relative_paths_and_duplicates(tmp_path):
    v = _touch(tmp_path / "v" / "one.mp4")
    lst = tmp_path / "inputs.txt"
    lst.write_text("# comment\nv/one.mp4\n\nv/one.mp4\n")
    got = expand([f"@{lst}", str(v)])
    assert [s.path for s in got] == [str(v)]


def test_relative_names_are_made_unique_and_keys_are_stable(tmp_path):
    a = _touch(tmp_path / "a" / "clip.mp4")
    b = _touch(tmp_path / "b" / "clip.mp4")
    got = expand([str(a), str(b)])
    assert len({s.rel for s in got}) == 2
    assert all(s.rel.startswith("clip-") and s.rel.endswith(".mp4") for s in got)
    assert Source(str(a), "video", "x").key == got[0].key != got[1].key


def test_output_and_annotation_folders_inside_an_input_folder_are_not_inputs(tmp_path):
    _touch(tmp_path / "clip.mp4")
    _touch(tmp_path / "out" / "x.mp4")
    _touch(tmp_path / "ann" / "clip.mp4")
    got = expand([str(tmp_path)], exclude=[tmp_path / "out", str(tmp_path / "ann"), None])
    assert [s.rel for s in got] == ["clip.mp4"]


def test_symlink_to_a_parent_is_followed_once_and_never_loops(tmp_path):
    data = tmp_path / "data"
    _touch(data / "a.mp4")
    _touch(data / "sub" / "b.jpg")
    (data / "sub" / "up").symlink_to(data)  # a loop: data/sub/up -> data
    (tmp_path / "linked").symlink_to(data / "sub")  # a second name for a real directory
    found = expand_inputs([str(data), str(tmp_path / "linked")])
    assert [s.path for s in found.sources] == [str(data / "a.mp4"), str(data / "sub" / "b.jpg")]
    reasons = {Path(s.path).name: s.reason for s in found.skipped}
    assert reasons["up"].startswith("directory already walked as")


def test_one_file_named_by_two_paths_runs_once(tmp_path):
    real = _touch(tmp_path / "a.mp4")
    (tmp_path / "alias.mp4").symlink_to(real)
    dotted = f"{tmp_path}/./a.mp4"
    found = expand_inputs([str(real), str(tmp_path / "alias.mp4"), dotted])
    assert [s.path for s in found.sources] == [dotted]
    assert sorted(s.path for s in found.skipped) == [str(real), str(tmp_path / "alias.mp4")]
    assert {s.reason for s in found.skipped} == {f"same file as {dotted}"}


def test_unknown_extensions_in_a_folder_are_listed_with_the_reason(tmp_path):
    _touch(tmp_path / "a.mp4")
    _touch(tmp_path / "party.gif")
    _touch(tmp_path / "README")
    found = expand_inputs([str(tmp_path)])
    assert [s.rel for s in found.sources] == ["a.mp4"]
    assert found.skipped == [Skipped(str(tmp_path / "README"), "not a known video or image extension (none)"),
                             Skipped(str(tmp_path / "party.gif"), "not a known video or image extension (.gif)")]
