import pytest

from reid.video.manifest import ManifestError, load_manifest, parse_camera_flags


def test_camera_flags_group_files_and_start_times():
    m = parse_camera_flags(["lobby=a.mp4", "street=c.mp4@12.5", "lobby=b.mp4"])
    assert [(c.name, c.files, c.start_time) for c in m.cameras] == [
        ("lobby", ("a.mp4", "b.mp4"), 0.0),
        ("street", ("c.mp4",), 12.5),
    ]


@pytest.mark.parametrize("flag", ["lobby", "=a.mp4", "lobby=", "x=a.mp4@soon"])
def test_bad_camera_flag(flag):
    with pytest.raises(ManifestError, match="--camera"):
        parse_camera_flags([flag])


def test_manifest_paths_relative_to_its_folder(tmp_path):
    (tmp_path / "m.yaml").write_text(
        "cameras:\n  lobby:\n    files: [v/a.mp4, v/b.mp4]\n    start_time: 3\n  street: s.mp4\n"
        "transit:\n  lobby->street: [2, 60]\n"
    )
    m = load_manifest(tmp_path / "m.yaml")
    assert m.cameras[0].files == (str(tmp_path / "v/a.mp4"), str(tmp_path / "v/b.mp4"))
    assert m.cameras[0].start_time == 3.0
    assert m.cameras[1].files == (str(tmp_path / "s.mp4"),)
    assert m.transit == {"lobby->street": (2.0, 60.0)}


@pytest.mark.parametrize(
    "text, message",
    [
        ("cameras: []\n", "expected a 'cameras:' mapping"),
        ("cameras:\n  a: x.mp4\ncams: 1\n", "unknown key"),
        ("cameras:\n  a: {file: x.mp4}\n", "camera 'a' needs 'files:'"),
        ("cameras:\n  a: x.mp4\ntransit:\n  a->b: [1, 2]\n", "names a camera that is not"),
        ("cameras:\n  a: x.mp4\ntransit:\n  a: [1, 2]\n", "expected 'camA->camB"),
        ("cameras: [\n", "not valid YAML"),
    ],
)
def test_bad_manifest_one_line(tmp_path, text, message):
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(ManifestError, match=message) as err:
        load_manifest(path)
    assert "\n" not in str(err.value) and "m.yaml" in str(err.value)
