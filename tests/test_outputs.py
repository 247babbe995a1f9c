"""Outputs are all or nothing, never over an input, with a plain file's mode; OS errors are
one line and exit code 2 (issue 13: 2, 7–10)."""

from __future__ import annotations

import importlib
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

import chukan
from chukan.cli import main
from chukan.errors import ChukanError, FileError, SameFileError
from helpers import FIXTURES, KOJIN

KOJIN_DAT = FIXTURES / "vendor-a" / "juki-kojin.dat"
KIHON = "examples/vendor-a/kojin-to-kihon"
# the module, not the function chukan.convert that the package exports under its name
convert_module = importlib.import_module("chukan.convert")


def run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture
def dat(tmp_path: Path) -> Path:
    path = tmp_path / "in.dat"
    path.write_bytes(KOJIN_DAT.read_bytes())
    return path


@pytest.fixture
def csv(tmp_path: Path) -> Path:
    path = tmp_path / "in.csv"
    assert run("read", KOJIN_DAT, "-l", KOJIN, "-o", path)[0] == 0
    return path


@pytest.mark.parametrize("case", [
    "read IN.csv -o IN.csv", "write IN.csv -o IN.csv", "validate IN -o IN",
    "convert IN -o IN", "convert IN --rejects IN", "convert IN --manifest IN",
    "convert IN -o OUT --rejects OUT", "convert IN -o LINK"])
def test_an_output_that_is_an_input_or_another_output_is_refused(
        case: str, dat: Path, csv: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.dat"
    os.link(dat, link)  # the same file by inode, under another name
    before = {p: p.read_bytes() for p in (dat, csv)}
    names = {"IN.csv": str(csv), "IN": str(dat), "OUT": str(tmp_path / "out.csv"),
             "LINK": str(link)}
    command, *rest = case.split()
    args = [names.get(a, a) for a in rest]
    extra = {"read": ["-l", KOJIN], "write": ["-l", KOJIN], "validate": ["-l", KOJIN],
             "convert": ["-m", KIHON]}[command]
    if command == "convert" and "-o" not in args:
        args += ["-o", str(tmp_path / "out.csv")]
    code, out = run(command, *args, *extra)
    assert code == 2, out
    assert "also" in out
    assert {p: p.read_bytes() for p in (dat, csv)} == before
    assert not (tmp_path / "out.csv").exists()


def test_convert_refuses_the_same_file_in_the_library_too(dat: Path) -> None:
    with pytest.raises(SameFileError):
        chukan.convert(dat, KIHON, dat.with_suffix(".csv"), rejects=dat)


def test_outputs_get_the_mode_a_plain_open_gives(dat: Path, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        out = tmp_path / "out.csv"
        chukan.convert(dat, KIHON, out)
        for path in (out, out.with_name("out.csv.rejects.csv"),
                     out.with_name("out.csv.manifest.json")):
            assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
        assert run("read", dat, "-l", KOJIN, "-o", tmp_path / "r.csv")[0] == 0
        assert stat.S_IMODE((tmp_path / "r.csv").stat().st_mode) == 0o644
        # an existing file keeps its mode, as it would with open()
        out.chmod(0o640)
        chukan.convert(dat, KIHON, out)
        assert stat.S_IMODE(out.stat().st_mode) == 0o640
    finally:
        os.umask(old)


def test_a_failed_convert_leaves_the_previous_run_whole(
        dat: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out.csv"
    chukan.convert(dat, KIHON, out)
    files = sorted(tmp_path.iterdir())
    before = {p: p.read_bytes() for p in files}
    real = convert_module._run

    def broken(*args: object, **kwargs: object) -> object:
        got = real(*args, **kwargs)  # type: ignore[arg-type]
        args[5].records_out -= 1  # type: ignore[attr-defined] -- an invariant broken (result)
        return got

    monkeypatch.setattr(convert_module, "_run", broken)
    with pytest.raises(ChukanError, match="records in"):
        chukan.convert(dat, KIHON, out)
    assert sorted(tmp_path.iterdir()) == files  # no temporary file left either
    assert {p: p.read_bytes() for p in files} == before


def test_an_unwritable_rejects_path_changes_nothing(dat: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    with pytest.raises(FileError, match="missing"):
        chukan.convert(dat, KIHON, out, rejects=tmp_path / "missing" / "r.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.dat"]


def test_strays_of_a_killed_run_are_removed_by_the_next(dat: Path, tmp_path: Path) -> None:
    stray = tmp_path / ".out.csv.chukan-999999999-0badcafe.tmp"  # no such process
    stray.write_bytes(b"half a file")
    mine = tmp_path / f".out.csv.chukan-{os.getpid()}-00000000.tmp"  # a live process
    mine.write_bytes(b"in use")
    chukan.convert(dat, KIHON, tmp_path / "out.csv")
    assert not stray.exists()
    assert mine.exists()


def test_read_is_all_or_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_bytes(b"previous")
    bad = tmp_path / "bad.dat"
    bad.write_bytes(KOJIN_DAT.read_bytes()[:-5])  # the last record cut short
    code, message = run("read", bad, "-l", KOJIN, "-o", out)
    assert code == 1, message
    assert out.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize("command", ["read", "write", "convert", "validate"])
def test_os_errors_are_one_line_and_exit_2(command: str, dat: Path, csv: Path,
                                           tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / "out.csv"
    args = {"read": ["read", dat, "-l", KOJIN, "-o", target],
            "write": ["write", csv, "-l", KOJIN, "-o", target.with_suffix(".dat")],
            "convert": ["convert", dat, "-m", KIHON, "-o", target],
            "validate": ["validate", dat, "-l", KOJIN, "-o", target]}[command]
    code, out = run(*args)
    assert code == 2, out
    assert "Traceback" not in out
    assert "no-such-folder" in out
    assert len(out.strip().splitlines()) == 1, out


def test_a_file_written_in_slices_is_synced_slice_by_slice(
        dat: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each slice (write) or batch of bytes (convert) goes to disk while the next is
    made, so that the sync before the rename waits for the last alone: what was synced
    when, by the bytes the file held at each sync."""
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(os.fstat(fd).st_size))
    df = chukan.read(dat, KOJIN)
    monkeypatch.setattr(importlib.import_module("chukan.write"), "_SLICE", 2)
    chukan.write(df.head(5), tmp_path / "out.dat", KOJIN)
    stride = chukan.load_layout(KOJIN).stride
    # three slices of 2, 2 and 1 records, then the file as OutputSet closes it
    assert synced == [2 * stride, 4 * stride, 5 * stride, 5 * stride]
    synced.clear()
    monkeypatch.setattr(convert_module, "_SYNC_EVERY", 1)
    chukan.convert(dat, KIHON, tmp_path / "out.csv", batch_size=2)
    size = (tmp_path / "out.csv").stat().st_size
    # the output's syncs as it grew, then the three as OutputSet closes the output, the
    # rejects and the manifest
    growing = synced[:-3]
    assert len(growing) >= 3, synced
    assert growing == sorted(growing)
    assert growing[-1] == synced[-3] == size
