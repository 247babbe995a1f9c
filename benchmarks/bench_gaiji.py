"""外字 → MJ candidates: recall and speed on a synthetic 外字 font made from another Mincho.

The 外字 font is made here from 花園明朝 A (Debian's ``fonts-hanazono``): each character
of a list kept in the repo is copied, outline for outline, to a private use code point
(U+E000 on). Then ``chukan.gaiji.candidates`` ranks IPAmj明朝's 59,161 glyphs for each.
The truth for each is the IPAmj glyph of the same code point and IVS, so a hit is the
very MJ 文字図形名, not a look-alike.

The lists (``benchmarks/gaiji/*.txt``, one sequence per line, ``U+8FBB U+E0101``):

- ``test.txt``: 600 IVS variants (sequences both fonts register) and 500 plain kanji, the
  figures quoted in docs/gaiji.md;
- ``dev.txt``: 600 + 600 others, on which the constants of ``chukan.gaiji._shape``
  were chosen (the test list shares none of them).

``--make-lists`` draws them again from the fonts, with the seeds below.

Figures printed, each for IVS variants, plain kanji and all:

- the stages on their own (what each design choice buys): em-box bitmaps at 64×64 and
  moment-normalised ones, searched by blurred cosine alone, then with the re-ranking;
- the same 外字 stored as 64×64 one-bit bitmaps and traced back into outlines (square
  pixels, as old 外字エディタ fonts are);
- the index built from nothing (``--no-cache``: always), read from its cache, and the
  time to rank the whole list.

Run: ``python benchmarks/bench_gaiji.py`` (``apt install fonts-ipamj-mincho
fonts-hanazono``).
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

import numpy as np

from chukan import _core
from chukan.gaiji import _shape, load_eudc, write_eudc
from chukan.gaiji._font import copy_glyphs, font_sequences, reading_font

HANAZONO = Path("/usr/share/fonts/truetype/hanazono/HanaMinA.ttf")
LISTS = Path(__file__).with_name("gaiji")
SEEDS = {"dev": 12, "test": 2026}
SIZES = {"dev": (600, 600), "test": (600, 500)}


class Fonts:
    """Both fonts' sequences (a character, or one with its selector) and their glyphs."""

    def __init__(self, mj_path: Path) -> None:
        with reading_font(mj_path, "MJフォント") as mj, reading_font(HANAZONO, "花園明朝") as ha:
            self.mj, self.ha = font_sequences(mj), font_sequences(ha)

    def same_glyph(self) -> dict[str, set[str]]:
        """Each 花園明朝 glyph's sequences: a glyph it draws for two sequences stands for
        both, and the MJ glyph of either is right."""
        out: dict[str, set[str]] = {}
        for seq, glyph in self.ha.items():
            out.setdefault(glyph, set()).add(seq)
        return out


def make_lists(fonts: Fonts) -> None:
    def usable(seq: str) -> bool:
        return fonts.mj.get(seq, "").startswith("mj") and seq in fonts.ha

    ivs = sorted(s for s in fonts.ha if len(s) == 2 and usable(s))
    plain = sorted(s for s in fonts.ha if len(s) == 1 and "\u4e00" <= s <= "\u9fff"
                   and usable(s))
    taken: set[str] = set()
    LISTS.mkdir(exist_ok=True)
    for name in ("dev", "test"):
        rnd = random.Random(SEEDS[name])
        n_ivs, n_plain = SIZES[name]
        chosen = (rnd.sample([s for s in ivs if s not in taken], n_ivs)
                  + rnd.sample([s for s in plain if s not in taken], n_plain))
        taken.update(chosen)
        lines = [" ".join(f"U+{ord(c):04X}" for c in seq) for seq in chosen]
        (LISTS / f"{name}.txt").write_text(
            f"# seed {SEEDS[name]}: {n_ivs} IVS variants, then {n_plain} plain kanji\n"
            + "\n".join(lines) + "\n", encoding="utf-8")


def read_list(name: str) -> list[str]:
    """A list's sequences (``U+8FBB U+E0101`` → ``辻`` with its selector)."""
    text = (LISTS / f"{name}.txt").read_text(encoding="utf-8")
    return ["".join(chr(int(c[2:], 16)) for c in line.split())
            for line in text.splitlines() if line and not line.startswith("#")]


def traced_font(path: Path, clean: Path, count: int, bits: int = 64) -> None:
    """The clean 外字 font's glyphs stored as ``bits``² one-bit bitmaps of the em, then
    traced back: one square contour per run of ink in a row, as 外字エディタ fonts are."""


    font = load_eudc(clean)
    upm = font.units_per_em
    ids = np.array([font.glyph_id(chr(0xE000 + i)) for i in range(count)], dtype=np.uint16)
    drawn = _core.render_glyphs(font.data, ids, bits, 1.0).reshape(count, bits, bits) >= 128
    step = upm / bits
    outlines = {}
    for i in range(count):
        polygons = []
        for y in range(bits):
            row = np.flatnonzero(np.diff(np.concatenate([[0], drawn[i, y], [0]]).astype(int)))
            top, bottom = round(upm - y * step), round(upm - (y + 1) * step)
            for x0, x1 in zip(row[::2], row[1::2], strict=True):
                left, right = round(x0 * step), round(x1 * step)
                polygons.append([(left, bottom), (left, top), (right, top), (right, bottom)])
        outlines[0xE000 + i] = polygons
    write_eudc(path, outlines, units_per_em=upm)


def recall(best: np.ndarray, truth: np.ndarray, ivs: np.ndarray) -> str:
    """Top-1 and top-5 recall; ``truth`` holds each 外字's right answers (-1: none)."""
    parts = []
    for k in (1, 5):
        hit = (best[:, :k, None] == truth[:, None, :]).any(axis=(1, 2))
        parts.append(f"top-{k} {hit.mean():.3f} (IVS {hit[ivs].mean():.3f}, "
                     f"plain {hit[~ivs].mean():.3f})")
    return "  ".join(parts)


def coarse_only(data: bytes, glyphs: np.ndarray, index: _shape.MjIndex, *,
                moments: bool) -> np.ndarray:
    """The search stage alone (moments) or its em-box baseline (no moments): the 5 best."""
    if moments:
        query = _shape._features(_shape._coarse(data, glyphs))
        features = index.features
    else:
        def em(font: bytes, ids: np.ndarray) -> np.ndarray:
            drawn = _core.render_glyphs(font, ids, 64, 0.9).reshape(len(ids), 32, 2, 32, 2)
            return _shape._features(drawn.astype(np.uint16).sum(axis=(2, 4)) // 4)
        query, features = em(data, glyphs), em(index.data, index.glyphs)
    best = np.empty((len(glyphs), 5), dtype=np.int64)
    for start in range(0, len(glyphs), 512):
        sim = query[start:start + 512] @ features.T
        best[start:start + 512] = np.argsort(-sim, axis=1)[:, :5]
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--list", default="test", choices=sorted(SEEDS))
    parser.add_argument("--limit", type=int, help="only the first N of each kind")
    parser.add_argument("--make-lists", action="store_true")
    parser.add_argument("--mj-font", type=Path)
    args = parser.parse_args()
    mj_path = _shape.find_mj_font(args.mj_font)
    fonts = Fonts(mj_path)
    if args.make_lists:
        make_lists(fonts)
    seqs = read_list(args.list)
    if args.limit:
        n_ivs = sum(len(s) == 2 for s in seqs)
        seqs = seqs[:min(args.limit, n_ivs)] + seqs[n_ivs:n_ivs + args.limit]
    ivs = np.array([len(s) == 2 for s in seqs])
    print(f"{len(seqs)} 外字 from 花園明朝 ({ivs.sum()} IVS variants, {(~ivs).sum()} plain), "
          f"against {mj_path.name}; {os.cpu_count()} cores")

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CHUKAN_CACHE"] = tmp
        start = time.perf_counter()
        index = _shape.mj_index(mj_path)
        built = time.perf_counter() - start
        start = time.perf_counter()
        index = _shape.mj_index(mj_path)
        cached = time.perf_counter() - start
    position = {n: i for i, n in enumerate(index.names)}
    same = fonts.same_glyph()
    answers = [{position[g.lower()] for t in same[fonts.ha[s]]
                if (g := fonts.mj.get(t)) is not None and g.lower() in position}
               for s in seqs]
    truth = np.full((len(seqs), max(map(len, answers))), -1)
    for i, found in enumerate(answers):
        truth[i, :len(found)] = sorted(found)
    strict = np.array([position[fonts.mj[s].lower()] for s in seqs])
    print(f"{sum(len(a) > 1 for a in answers)} of them are one 花園明朝 glyph for two "
          "sequences that IPAmj draws apart: either MJ glyph is right")
    print(f"index of {len(index.names)} MJ glyphs: built in {built:.1f} s, "
          f"read from its cache in {cached:.1f} s")

    with tempfile.TemporaryDirectory() as tmp:
        clean = Path(tmp) / "hanazono-eudc.ttf"
        copy_glyphs(HANAZONO, [fonts.ha[s] for s in seqs], clean)
        traced = Path(tmp) / "hanazono-64px-traced.ttf"
        traced_font(traced, clean, len(seqs))
        for label, path in (("outlines", clean), ("64×64 bitmaps traced", traced)):
            eudc = load_eudc(path)
            chars = [chr(0xE000 + i) for i in range(len(seqs))]
            glyphs = np.array([eudc.glyph_id(c) for c in chars], dtype=np.uint16)
            print(f"\n{label}:")
            for name, moments in (("em box, cosine (baseline)", False),
                                  ("moments, cosine", True)):
                best = coarse_only(eudc.data, glyphs, index, moments=moments)
                print(f"  {name:32} {recall(best, truth, ivs)}")
            start = time.perf_counter()
            found = _shape.candidates(eudc, index, k=5, chars=chars)
            took = time.perf_counter() - start
            best = np.array([position[n] for n in found.table["mj"]]).reshape(len(seqs), 5)
            print(f"  {'moments + re-ranking (chukan)':32} {recall(best, truth, ivs)}")
            print(f"  {'  the same, one answer only':32} {recall(best, strict[:, None], ivs)}")
            print(f"  ranked {len(seqs)} in {took:.1f} s")


if __name__ == "__main__":
    main()
