"""MJ candidates for each 外字, ranked by shape.

Two stages, both compiled or whole-array work (no Python per glyph or per pixel):

1. **Search** every MJ glyph (IPAmj明朝: 59,161) by a coarse feature: the glyph drawn by
   the core, moment-normalised (its ink's centre and spread brought to one frame, as
   character recognisers do, so that two fonts' proportions agree), averaged to 32×32,
   blurred and compared by cosine, one matrix product per batch of 外字. The MJ side is
   the *index*, built once per font (a few seconds on 2 cores) and kept on disk.
2. **Re-rank** the best ``max(k, 8)`` at 128×128 by where they differ: for each pair of
   candidates, only the pixels one has and the other lacks count, and the 外字 votes
   for the one whose strokes it has there. Variants (辻 with one dot or two, 艹 in three
   strokes or four) differ in a few pixels that a whole-glyph distance loses among the
   two fonts' differences of style.

``benchmarks/bench_gaiji.py`` measures what each stage buys (docs/gaiji.md).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from chukan import _core
from chukan._files import OutputSet
from chukan.errors import FileError, UsageError
from chukan.gaiji._font import core_drawing, font_bytes, reading_font
from chukan.gaiji._mj import _MJ_NAME, find_mj_font, load_mj_font

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from chukan.gaiji._font import EudcFont
    from chukan.gaiji._mj import MjFont

#: the search's grid: glyphs drawn at 128, normalised onto 64, averaged to 32
_RAW, _NORMAL, _COARSE = 128, 64, 32
#: the re-ranking's grid: drawn at 192, normalised onto 128
_FINE_RAW, _FINE = 192, 128
#: a glyph's ink spread (standard deviation) as a share of the normalised grid
_SPREAD = 0.19
#: the coarse feature's blur (its standard deviation, in 32×32 pixels)
_BLUR = 1.0
#: pixels (at 128) one candidate's ink must be from the other's to tell them apart, and
#: the reach of the 外字's ink when it votes (both tuned on the benchmark's dev set)
_APART, _NEAR = 3.0, 2.0
#: the bending of each 外字 onto its best candidate before the vote: shifts of up to 4
#: pixels at points 16 apart, found in windows of 24 under a blur of 2, smoothed over
#: neighbouring points, a shift of one pixel costing 0.002 of correlation
_BEND = (4, 16, 24, 2.0, 1.0, 0.002)
#: how many of the search's best are re-ranked at least (the pairs grow as its square)
_RERANK = 8
#: the index file's format: a change to the features above makes a new one
_INDEX_VERSION = 2
#: 外字 re-ranked per call of the core: bounds the fine bitmaps held at once (~70 MB)
_RERANK_BATCH = 256


@dataclass(frozen=True, slots=True)
class MjIndex:
    """Every MJ glyph of a font, drawn for the search."""

    path: str
    names: list[str]  # MJ 文字図形名, lower case
    glyphs: np.ndarray  # their glyph ids (uint16)
    features: np.ndarray  # (glyphs, 1024) float32, unit length
    font: MjFont = dataclasses.field(repr=False)  # each name's Unicode sequence
    data: bytes = dataclasses.field(repr=False, default=b"")  # the font file


def cache_dir() -> Path:
    r"""Where the MJ index is kept: ``CHUKAN_CACHE``, else the user's cache folder
    (``%LOCALAPPDATA%\\chukan`` on Windows, ``~/.cache/chukan`` elsewhere)."""
    if env := os.environ.get("CHUKAN_CACHE"):
        return Path(env)
    if sys.platform == "win32" and (local := os.environ.get("LOCALAPPDATA")):
        return Path(local) / "chukan"
    if xdg := os.environ.get("XDG_CACHE_HOME"):
        return Path(xdg) / "chukan"
    try:
        return Path.home() / ".cache" / "chukan"
    except RuntimeError:  # no home folder (a service account): the temporary folder
        return Path(tempfile.gettempdir()) / "chukan"


def _features(coarse: np.ndarray) -> np.ndarray:
    """(n, 32, 32) uint8 → (n, 1024) float32: blurred, centred, unit length."""
    size = coarse.shape[1]
    grid = np.arange(size, dtype=np.float32)
    blur = np.exp(-((grid[:, None] - grid[None, :]) ** 2) / (2 * _BLUR**2))
    blur /= blur.sum(axis=1, keepdims=True)
    n = len(coarse)
    x = coarse.astype(np.float32) / 255
    # the blur along rows, then along columns: two plain matrix products
    x = (x.reshape(n * size, size) @ blur.T).reshape(n, size, size)
    x = (x.transpose(0, 2, 1).reshape(n * size, size) @ blur.T).reshape(n, size, size)
    x = x.transpose(0, 2, 1).reshape(n, -1)
    x -= x.mean(axis=1, keepdims=True)
    x /= np.linalg.norm(x, axis=1, keepdims=True) + 1e-9
    return np.asarray(x, dtype=np.float32)


def _drawn(data: bytes, glyphs: np.ndarray, raw: int, size: int, what: str) -> np.ndarray:
    """The glyphs drawn by the core and moment-normalised."""
    with core_drawing(what):
        return _core.render_normalised(data, glyphs, raw, size, _SPREAD)


def _coarse(data: bytes, glyphs: np.ndarray, what: str = "MJフォント") -> np.ndarray:
    """The glyphs moment-normalised at 64 and averaged to 32: (n, 32, 32) uint8."""
    grid = _drawn(data, glyphs, _RAW, _NORMAL, what)
    grid = grid.reshape(len(glyphs), _COARSE, 2, _COARSE, 2).astype(np.uint16)
    return np.asarray(grid.sum(axis=(2, 4)) // 4, dtype=np.uint8)


def _fine(data: bytes, glyphs: np.ndarray, what: str = "MJフォント") -> np.ndarray:
    return _drawn(data, glyphs, _FINE_RAW, _FINE, what)


def mj_index(path: str | Path | None = None, *, cache: bool = True,
             progress: Callable[[str], None] | None = None) -> MjIndex:
    """The index of an MJ font's glyphs (those named ``mjNNNNNN``): read from the cache
    when this very font (by its SHA-256) was indexed before, else built and kept."""
    where = find_mj_font(path)
    data = font_bytes(where)
    font = load_mj_font(where, data)
    digest = hashlib.sha256(data).hexdigest()[:20]
    kept = cache_dir() / f"mj-index-v{_INDEX_VERSION}-{digest}.npz"
    if cache and kept.is_file():
        try:
            # (read whole first: numpy leaves the file open when it is no zip)
            with np.load(io.BytesIO(kept.read_bytes()), allow_pickle=False) as saved:
                names, glyphs, coarse = list(saved["names"]), saved["glyphs"], saved["coarse"]
            return MjIndex(str(where), [str(n) for n in names], glyphs, _features(coarse),
                           font, data)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            pass  # a broken cache file is built again
    if progress is not None:
        progress(f"MJ索引を作成しています: {where}")
    with reading_font(where, "MJフォント", data) as opened:
        order = opened.getGlyphOrder()
    # a glyph no code point or IVS reaches could be chosen but never written: left out
    picked = [(i, n.lower()) for i, n in enumerate(order)
              if _MJ_NAME.match(n) and n.lower() in font.sequence]
    if not picked:
        msg = f"MJフォントに mjNNNNNN という名前の字形がありません: {where}"
        raise UsageError(msg)
    glyphs = np.array([i for i, _ in picked], dtype=np.uint16)
    names = [n for _, n in picked]
    coarse = _coarse(data, glyphs)
    if cache:
        _keep(kept, names, glyphs, coarse)
    return MjIndex(str(where), names, glyphs, _features(coarse), font, data)


def _keep(kept: Path, names: list[str], glyphs: np.ndarray, coarse: np.ndarray) -> None:
    """The index written as the writers write (a temporary file renamed into place:
    whole or not at all, even when two runs build it at once). Where nothing can be
    written there is no cache, and the next run builds the index again."""
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        with OutputSet([kept]) as (fh,):
            np.savez(fh, names=np.array(names), glyphs=glyphs, coarse=coarse)
    except (OSError, FileError):
        pass


@dataclass(frozen=True, slots=True)
class Candidates:
    """The MJ candidates of each 外字, best first.

    ``table`` has one row per 外字 and rank: ``code_point`` (``U+E000``), ``rank``
    (1 = closest), ``mj`` (the 文字図形名), ``codes`` (its Unicode sequence, ``U+XXXX``
    with the IVS if any), ``score`` (higher is closer; compare within one 外字 only).
    ``missing`` lists the 外字 asked for that the font lacks (nothing to compare).
    """

    table: pl.DataFrame
    missing: list[str]


def _codes(seq: str) -> str:
    return " ".join(f"U+{ord(c):04X}" for c in seq)


def candidates(eudc: EudcFont, index: MjIndex | None = None, *, k: int = 5,
               chars: Iterable[str] | None = None, batch: int = 512) -> Candidates:
    """Rank the MJ glyphs of ``index`` (default: IPAmj明朝's, from the cache) for each
    外字 of ``eudc``: ``chars``, or every private use glyph the font has."""
    if k < 1:
        msg = f"候補の数は1以上にしてください: {k}"
        raise UsageError(msg)
    index = mj_index() if index is None else index
    wanted = [chr(cp) for cp in eudc.private] if chars is None else list(dict.fromkeys(chars))
    drawn = {c: eudc.has(c) for c in wanted}
    have = [c for c in wanted if drawn[c]]
    missing = [_codes(c) for c in wanted if not drawn[c]]
    keep = min(k, len(index.names))
    look = min(max(k, _RERANK), len(index.names))
    if not have:
        return Candidates(_empty(), missing)
    glyphs = np.array([eudc.glyph_id(c) for c in have], dtype=np.uint16)
    query = _features(_coarse(eudc.data, glyphs, "外字フォント"))
    chosen = np.empty((len(have), look), dtype=np.int64)
    base = np.empty((len(have), look), dtype=np.float32)
    for start in range(0, len(have), batch):
        sim = query[start:start + batch] @ index.features.T
        top = np.argpartition(-sim, look - 1, axis=1)[:, :look]
        # best first: the re-ranking bends each 外字 onto its first candidate
        order = np.argsort(-np.take_along_axis(sim, top, axis=1), axis=1, kind="stable")
        chosen[start:start + batch] = np.take_along_axis(top, order, axis=1)
        base[start:start + batch] = np.take_along_axis(sim, chosen[start:start + batch],
                                                       axis=1)
    margins = np.empty_like(base)
    for start in range(0, len(have), _RERANK_BATCH):
        part = chosen[start:start + _RERANK_BATCH]
        # the fine stage draws only the glyphs these 外字 chose
        used, local = np.unique(part, return_inverse=True)
        margins[start:start + _RERANK_BATCH] = _core.rerank_glyphs(
            _fine(eudc.data, glyphs[start:start + _RERANK_BATCH], "外字フォント"),
            _fine(index.data, index.glyphs[used]),
            local.reshape(part.shape).astype(np.uint32).ravel(), look, _FINE, _APART, _NEAR,
            _BEND,
        ).reshape(part.shape)
    score = base + margins
    order = np.argsort(-score, axis=1, kind="stable")[:, :keep]
    best = np.take_along_axis(chosen, order, axis=1)
    names = np.array(index.names, dtype=object)[best]
    table = pl.DataFrame({
        "code_point": np.repeat(np.array([_codes(c) for c in have], dtype=object), keep),
        "rank": np.tile(np.arange(1, keep + 1, dtype=np.int32), len(have)),
        "mj": names.ravel(),
        "codes": [_codes(index.font.sequence.get(n, "")) for n in names.ravel()],
        "score": np.take_along_axis(score, order, axis=1).ravel().round(4),
    }, schema=_SCHEMA)
    return Candidates(table, missing)


_SCHEMA = {"code_point": pl.String, "rank": pl.Int32, "mj": pl.String, "codes": pl.String,
           "score": pl.Float32}


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=_SCHEMA)


