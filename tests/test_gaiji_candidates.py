"""MJ candidates ranked by shape, the 文字同定 worksheet, and the whole round through it.

The unit tests make their fonts here with fontTools: an MJ-like font of a few glyphs
(names mjNNNNNN, a variant reached by an IVS) and a 外字 font that draws the same shapes
by another hand (smaller, moved, bolder). The last tests use the real IPAmj明朝 and
花園明朝 (``.ci/run`` installs both Debian packages)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from click.testing import CliRunner

import chukan
from chukan import _core
from chukan.cli import main
from chukan.gaiji import candidates, load_eudc, mj_index, write_eudc
from chukan.gaiji._font import copy_glyphs
from helpers import mj_like_font

Box = tuple[int, int, int, int]  # left, bottom, right, top in font units

#: the MJ-like font's shapes, as bars: 口, 口 with a dot (its IVS variant), 十, 三, 川, 工
SHAPES: dict[str, list[Box]] = {
    "mj000001": [(150, 50, 250, 750), (750, 50, 850, 750), (150, 50, 850, 150),
                 (150, 650, 850, 750)],
    "mj000003": [(100, 350, 900, 450), (450, 0, 550, 800)],
    "mj000004": [(150, 650, 850, 730), (200, 350, 800, 430), (100, 40, 900, 120)],
    "mj000005": [(200, 0, 280, 800), (460, 0, 540, 800), (720, 0, 800, 800)],
    "mj000006": [(200, 680, 800, 760), (450, 100, 550, 720), (100, 40, 900, 120)],
}
SHAPES["mj000002"] = [*SHAPES["mj000001"], (480, 380, 520, 420)]  # a small dot inside
CODES = {"mj000001": (0x53E3,), "mj000002": (0x53E3, 0xE0101), "mj000003": (0x5341,),
         "mj000004": (0x4E09,), "mj000005": (0x5DDD,), "mj000006": (0x5DE5,)}


def _polygon(box: Box, scale: float = 1.0, move: tuple[int, int] = (0, 0),
             bold: int = 0) -> list[tuple[int, int]]:
    left, bottom, right, top = box
    x0, y0 = left * scale + move[0] - bold, bottom * scale + move[1] - bold
    x1, y1 = right * scale + move[0] + bold, top * scale + move[1] + bold
    return [(round(x0), round(y0)), (round(x0), round(y1)), (round(x1), round(y1)),
            (round(x1), round(y0))]


def mj_font(path: Path) -> Path:
    """The MJ-like font: each shape a glyph named by its 文字図形名, and mj000007, a
    glyph no code point reaches (IPAmj明朝 has 34 such), never a candidate."""
    shapes = {name: [_polygon(b) for b in SHAPES[name]] for name in sorted(SHAPES)}
    shapes["mj000007"] = shapes["mj000001"]
    return mj_like_font(path, shapes, {c[0]: n for n, c in CODES.items() if len(c) == 1},
                        [(c[0], c[1], n) for n, c in CODES.items() if len(c) == 2],
                        "MJ shapes")


#: the 外字 font: U+E000… draw these MJ shapes, smaller, moved and bolder
GAIJI = ["mj000002", "mj000001", "mj000003", "mj000004", "mj000005", "mj000006"]


def gaiji_font(path: Path) -> Path:
    return write_eudc(path, {0xE000 + i: [_polygon(b, 0.9, (60, -30), 12) for b in SHAPES[n]]
                             for i, n in enumerate(GAIJI)})


@pytest.fixture
def fonts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setenv("CHUKAN_CACHE", str(tmp_path / "cache"))
    return gaiji_font(tmp_path / "eudc.ttf"), mj_font(tmp_path / "mj.ttf")


def test_each_gaiji_finds_its_mj_shape_first_the_variant_by_its_dot(
        fonts: tuple[Path, Path]) -> None:
    eudc, mj = fonts
    found = candidates(load_eudc(eudc), mj_index(mj), k=3)
    first = found.table.filter(rank=1)
    assert first["mj"].to_list() == GAIJI  # 口 with its dot and without, told apart
    assert first["code_point"].to_list() == [f"U+E00{i}" for i in range(6)]
    assert first["codes"][0] == "U+53E3 U+E0101" and first["codes"][1] == "U+53E3"
    assert found.table.height == 6 * 3 and found.missing == []
    scores = found.table["score"].to_numpy().reshape(6, 3)
    assert (np.diff(scores, axis=1) <= 0).all()  # best first


def test_the_variant_needs_the_vote_where_candidates_differ(fonts: tuple[Path, Path]) -> None:
    """The coarse search alone ranks 口 with a small dot first even for the 外字 without
    it (the bolder strokes outweigh the dot): the re-ranking votes only where the two
    differ, and there the 外字 without the dot votes against it."""
    from chukan.gaiji import _shape  # noqa: PLC0415

    eudc, mj = fonts
    font, index = load_eudc(eudc), mj_index(mj)
    glyphs = np.array([font.glyph_id(c) for c in "\ue000\ue001"], dtype=np.uint16)
    query = _shape._features(_shape._coarse(font.data, glyphs))
    coarse = (query @ index.features.T).argsort(axis=1)[:, ::-1][:, :2]
    names = [[index.names[i] for i in row] for row in coarse]
    assert names == [["mj000002", "mj000001"], ["mj000002", "mj000001"]]
    found = candidates(font, index, k=2, chars="\ue000\ue001")
    assert found.table.filter(rank=1)["mj"].to_list() == ["mj000002", "mj000001"]


def test_the_index_is_kept_and_used_again(fonts: tuple[Path, Path], tmp_path: Path) -> None:
    _, mj = fonts
    said: list[str] = []
    first = mj_index(mj, progress=said.append)
    assert len(said) == 1 and "MJ索引" in said[0]
    assert first.names == sorted(SHAPES)  # not mj000007, which nothing reaches
    kept = list((tmp_path / "cache").iterdir())
    assert len(kept) == 1 and kept[0].name.startswith("mj-index-")  # no partial left
    again = mj_index(mj, progress=said.append)
    assert len(said) == 1  # read, not built
    assert again.names == first.names and np.array_equal(again.features, first.features)
    whole = kept[0].read_bytes()
    for broken in (b"not an index", whole[:200], b"PK\x03\x04x"):  # cut short: a bad zip
        kept[0].write_bytes(broken)
        mj_index(mj, progress=said.append)
        assert said.pop() and said == ["MJ索引を作成しています: " + str(mj)]  # built again
        assert kept[0].read_bytes() == whole
    mj_index(mj, cache=False, progress=said.append)
    assert len(said) == 2


def test_a_font_with_no_mj_names_is_refused(tmp_path: Path) -> None:
    with pytest.raises(chukan.UsageError, match="mjNNNNNN"):
        mj_index(gaiji_font(tmp_path / "eudc.ttf"), cache=False)


def test_ranking_asks_for_at_least_one_candidate(fonts: tuple[Path, Path]) -> None:
    eudc, mj = fonts
    with pytest.raises(chukan.UsageError, match="候補の数"):
        candidates(load_eudc(eudc), mj_index(mj), k=0)


BEND = (4, 4, 4, 2.0, 1.0, 0.002)


@pytest.mark.parametrize(("args", "match"), [
    ((np.zeros(16, np.uint8), np.zeros(16, np.uint8), np.array([1], np.uint32), 1, 4),
     "candidate past"),
    ((np.zeros(16, np.uint8), np.zeros(32, np.uint8), np.array([0], np.uint32), 2, 4),
     "k candidates"),
    ((np.zeros(1, np.uint8), np.zeros(1, np.uint8), np.zeros(1, np.uint32), 1, 2**63 + 1),
     "size must be"),  # size² would wrap to 1
    ((np.zeros(2, np.uint8), np.zeros(1, np.uint8), np.zeros(0, np.uint32), 2**63, 1),
     "size must be"),  # n·k would wrap to 0
])
def test_the_core_checks_its_arguments(args: tuple[object, ...], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        _core.rerank_glyphs(*args, 1.5, 1.0, BEND)  # type: ignore[arg-type]


@pytest.mark.parametrize("bend", [(4, 4, 4, float("inf"), 1.0, 0.0),
                                  (4, 4, 4, 1e30, 1.0, 0.0), (10**6, 4, 4, 2.0, 1.0, 0.0),
                                  (4, 0, 4, 2.0, 1.0, 0.0), (4, 4, 99, 2.0, 1.0, 0.0),
                                  (4, 4, 4, 2.0, float("nan"), 0.0)])
def test_the_bending_is_bounded(bend: tuple[int, int, int, float, float, float]) -> None:
    """A blur of 10³⁰ once asked for a kernel of 10³¹ floats, and a reach of 10⁶ for
    practically endless work: bounds refuse them before any work."""
    q = np.zeros(16, np.uint8)
    with pytest.raises(ValueError, match=r"reach|blur"):
        _core.rerank_glyphs(q, np.concatenate([q, q]), np.array([0, 1], np.uint32), 2, 4,
                            1.5, 1.0, bend)


def test_the_core_draws_and_refuses_clearly() -> None:
    with pytest.raises(ValueError, match="not a font"):
        _core.render_glyphs(b"no font", np.zeros(1, dtype=np.uint16), 8, 0.9)
    with pytest.raises(ValueError, match="sizes"):
        _core.render_normalised(b"", np.zeros(1, dtype=np.uint16), 1, 8, 0.2)
    with pytest.raises(ValueError, match="fill"):
        _core.render_glyphs(b"", np.zeros(1, dtype=np.uint16), 8, float("nan"))
    with pytest.raises(ValueError, match="spread"):
        _core.render_normalised(b"", np.zeros(1, dtype=np.uint16), 8, 8, 0.0)


def test_a_font_the_core_cannot_draw_is_a_usage_error(fonts: tuple[Path, Path],
                                                       tmp_path: Path) -> None:
    """fontTools reads a font whose em is 8 units; the core's reader does not: the user
    is told which font, not shown a traceback."""
    from fontTools.ttLib import TTFont  # noqa: PLC0415

    eudc, mj = fonts
    font = TTFont(str(eudc))
    font["head"].unitsPerEm = 8
    font.save(str(tmp_path / "upm8.ttf"))
    with pytest.raises(chukan.UsageError, match="外字フォントとして読めません"):
        candidates(load_eudc(tmp_path / "upm8.ttf"), mj_index(mj))


def _book_rows(path: Path) -> list[dict[str, object]]:
    sheet = openpyxl.load_workbook(path).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_cli_writes_a_worksheet_staff_decide_in(fonts: tuple[Path, Path],
                                                tmp_path: Path) -> None:
    """The book has the 外字 and each candidate as pictures, their names, codes and
    scores, an empty 決定 column; the page the same rows as SVG. A decision by a
    candidate's number goes through ``gaiji map``."""
    eudc, mj = fonts
    out = tmp_path / "work" / "文字同定.xlsx"
    out.parent.mkdir()
    result = CliRunner().invoke(main, ["gaiji", "candidates", "--eudc", str(eudc),
                                       "--mj-font", str(mj), "-k", "2", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "外字6字の候補" in result.stderr
    rows = _book_rows(out)
    assert [r["コードポイント"] for r in rows] == [f"U+E00{i}" for i in range(6)]
    assert str(rows[0]["候補1"]).startswith("mj000002\nU+53E3 U+E0101\n")
    assert all(r["決定"] is None for r in rows)
    book = openpyxl.load_workbook(out)
    assert len(book.worksheets[0]._images) == 6 * 3  # the pictures
    assert "使い方" in book.sheetnames
    page = out.with_suffix(".html").read_text(encoding="utf-8")
    assert page.count("<svg") == 6 * 3 and "mj000002" in page
    sheet = book.worksheets[0]
    decide = [c.value for c in sheet[1]].index("決定") + 1
    for row, choice in zip(range(2, 8), ["1", "mj000001", "２", "", "1", "1"], strict=True):
        sheet.cell(row, decide, choice or None)
    book.save(out)
    gaiji = tmp_path / "gaiji.toml"
    result = CliRunner().invoke(main, ["gaiji", "map", str(out), "-o", str(gaiji),
                                       "--mj-font", str(mj)])
    assert result.exit_code == 1, result.output  # U+E003 left undecided
    assert "U+E003" in result.stderr
    text = gaiji.read_text(encoding="utf-8")
    assert '"U+E000" = "口\\U000e0101"' in text and '"U+E001" = "口"' in text
    assert "U+E003" not in text
    book = openpyxl.load_workbook(out)
    book.worksheets[0].cell(5, decide, "3")  # there are 2 candidates
    book.save(out)
    result = CliRunner().invoke(main, ["gaiji", "map", str(out), "-o", str(gaiji),
                                       "--mj-font", str(mj)])
    assert result.exit_code == 2 and "候補3 がありません(候補の番号は 1〜2)" in result.stderr


def test_cli_ranks_an_inventory_and_says_what_the_font_lacks(fonts: tuple[Path, Path],
                                                             tmp_path: Path) -> None:
    eudc, mj = fonts
    inventory = tmp_path / "report.json"
    inventory.write_text(json.dumps({"gaiji": [
        {"char": "\ue001", "code_point": "U+E001", "count": 12},
        {"char": "\ue0ff", "code_point": "U+E0FF", "count": 3}]}), encoding="utf-8")
    out = tmp_path / "sheet.xlsx"
    result = CliRunner().invoke(main, ["gaiji", "candidates", "--eudc", str(eudc),
                                       "--mj-font", str(mj), "--inventory", str(inventory),
                                       "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert "U+E0FF" in result.stderr
    rows = _book_rows(out)
    assert [(r["コードポイント"], r["件数"]) for r in rows] == [("U+E001", 12)]
    for bad in ({}, {"gaiji": [{"char": "\ue000\ue001", "code_point": "U+E000",
                                "count": 1}]}):
        inventory.write_text(json.dumps(bad), encoding="utf-8")
        result = CliRunner().invoke(main, ["gaiji", "candidates", "--eudc", str(eudc),
                                           "--mj-font", str(mj), "--inventory",
                                           str(inventory), "-o", str(out)])
        assert result.exit_code == 2 and "validate --format json" in result.stderr
    result = CliRunner().invoke(main, ["gaiji", "candidates", "--eudc", str(eudc),
                                       "--mj-font", str(mj), "-o", str(tmp_path / "a.csv")])
    assert result.exit_code == 2 and ".xlsx" in result.stderr


# ---- the real fonts: IPAmj明朝 and 花園明朝 (Debian's fonts-ipamj-mincho, fonts-hanazono)

HANAZONO = Path("/usr/share/fonts/truetype/hanazono/HanaMinA.ttf")
KOJIN = ("fixtures/vendor-a/juki-kojin.dat", "examples/vendor-a/juki-kojin")  # holds U+E000


def _glyph(path: Path | str, seq: str) -> str:
    """The glyph a font draws for ``seq`` (a character, or one with its IVS)."""
    from chukan.gaiji._font import font_sequences, reading_font  # noqa: PLC0415

    with reading_font(path, "フォント") as font:
        return font_sequences(font)[seq]


@pytest.fixture(scope="module")
def real_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One MJ index for this module's tests, kept in a folder of their own."""
    import os  # noqa: PLC0415

    cache = tmp_path_factory.mktemp("cache")
    os.environ["CHUKAN_CACHE"] = str(cache)
    try:
        mj_index()
    finally:
        del os.environ["CHUKAN_CACHE"]
    return cache


@pytest.fixture
def real_index(real_cache: Path, monkeypatch: pytest.MonkeyPatch) -> chukan.gaiji.MjIndex:
    monkeypatch.setenv("CHUKAN_CACHE", str(real_cache))
    return mj_index()


def test_hanazono_glyphs_find_their_ipamj_glyphs(real_index: chukan.gaiji.MjIndex,
                                                 tmp_path: Path) -> None:
    """A reduced benchmark: the first 30 IVS variants and 30 plain kanji of
    benchmarks/gaiji/test.txt, drawn by 花園明朝, ranked against all of IPAmj明朝."""
    lines = [line for line in Path("benchmarks/gaiji/test.txt").read_text(
        encoding="utf-8").splitlines() if line and not line.startswith("#")]
    picked = lines[:30] + lines[600:630]
    seqs = ["".join(chr(int(c[2:], 16)) for c in line.split()) for line in picked]
    eudc = load_eudc(copy_glyphs(HANAZONO, [_glyph(HANAZONO, s) for s in seqs],
                                 tmp_path / "eudc.ttf"))
    found = candidates(eudc, real_index, k=5)
    truth = [_glyph(real_index.path, s).lower() for s in seqs]
    got = found.table["mj"].to_numpy().reshape(len(seqs), 5)
    top1 = np.mean([got[i, 0] == t for i, t in enumerate(truth)])
    top5 = np.mean([t in got[i] for i, t in enumerate(truth)])
    assert top1 >= 0.85, top1
    assert top5 >= 0.97, top5


def test_the_whole_round_with_the_real_fonts(real_index: chukan.gaiji.MjIndex,
                                             tmp_path: Path) -> None:
    """The vendor's 外字 F040 (U+E000) is drawn in its 外字 font as 花園明朝 draws
    辻 U+8FBB U+E0103 (IPAmj明朝 has two 辻 by IVS, E0102 and E0103). validate's
    inventory → candidates → the officer picks IPAmj's 辻 U+E0103 among them by its
    number → ``gaiji map`` → convert writes 辻 with that IVS, and --reverse brings back
    the vendor's bytes."""
    runner = CliRunner()
    eudc = copy_glyphs(HANAZONO, [_glyph(HANAZONO, "辻\U000e0103")], tmp_path / "EUDC.TTE")
    result = runner.invoke(main, ["validate", KOJIN[0], "-l", KOJIN[1], "--format", "json"])
    inventory = tmp_path / "report.json"
    inventory.write_text(result.stdout, encoding="utf-8")
    sheet = tmp_path / "文字同定.xlsx"
    result = runner.invoke(main, ["gaiji", "candidates", "--eudc", str(eudc), "--inventory",
                                  str(inventory), "-o", str(sheet)],
                           )
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(sheet)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[1][0] == "U+E000"
    # the officer finds the one-dot 辻 among the candidates and writes its number
    want = _glyph(real_index.path, "辻\U000e0103").lower()
    shown = [str(v).split("\n")[0] for h, v in zip(rows[0], rows[1], strict=True)
             if str(h).startswith("候補") and not str(h).endswith("字形")]
    assert want in shown, shown
    decide = list(rows[0]).index("決定") + 1
    book.worksheets[0].cell(2, decide, str(shown.index(want) + 1))
    book.save(sheet)
    work = tmp_path / "work"
    work.mkdir()
    result = runner.invoke(main, ["gaiji", "map", str(sheet), "-o", str(work / "gaiji.toml")])
    assert result.exit_code == 0, result.output
    shipped = Path(chukan.__file__).parent / "layouts/examples/vendor-a"
    for name in ("kojin-to-chukan.toml", "zokugara-to-standard.toml"):
        shutil.copy(shipped / name, work / name)
    out = tmp_path / "kojin.csv"
    result = runner.invoke(main, ["convert", KOJIN[0], "-m", str(work / "kojin-to-chukan.toml"),
                                  "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "辻\U000e0103" in out.read_text(encoding="utf-8")
    back = tmp_path / "back.dat"
    result = runner.invoke(main, ["convert", str(out), "-m", str(work / "kojin-to-chukan.toml"),
                                  "--reverse", "-o", str(back)])
    assert result.exit_code == 0, result.output
    assert back.read_bytes() == Path(KOJIN[0]).read_bytes()
