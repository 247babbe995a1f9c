"""`make demo`: an end-to-end tour on the bundled sample data.

Reads a CP932 fixed-width export, converts it to Parquet and CSV and back (checking the
bytes are identical), maps it to a standard layout and back, reads a mainframe file with
packed decimals and converts a mainframe 住基 file (CP932, then IBM 930 EBCDIC, then
Fujitsu JEF with a town's code-page table) to 中間標準 and back, reads a 全銀 multi-record
file, then reads a defective export leniently and prints where every problem is.
Everything it writes goes to demo-out/.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl

import chukan

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "demo-out"
FIX = ROOT / "fixtures"


def step(title: str, why: str) -> None:
    """A step's title, and what it shows (in a sentence a municipal officer can read)."""
    print(f"\n== {title}")
    print(f"   {why}")


def cli(*args: str) -> None:
    """Run the command line as a user would, and show all it says."""
    print("$ chukan " + " ".join(args))
    done = subprocess.run([sys.executable, "-m", "chukan", *args], capture_output=True,
                          text=True, encoding="utf-8", errors="replace", check=False)
    for line in (done.stdout + done.stderr).splitlines():
        print("  " + line)
    print(f"  (exit code {done.returncode}: 0 all well, 1 problems in the data, 2 usage)")


def main() -> None:
    OUT.mkdir(exist_ok=True)
    pl.Config.set_tbl_width_chars(120)
    pl.Config.set_tbl_cols(8)

    step("Layouts shipped with chukan",
         "Every file format chukan knows is a declarative TOML layout; these ship with it.")
    for name in sorted(chukan.available_layouts()):
        print("  " + name)

    step("Read a CP932 fixed-width export (examples/vendor-a/juki-kojin)",
         "Fields are cut by bytes, decoded as CP932; 不詳 dates stay as written in _partial.")
    src = FIX / "vendor-a" / "juki-kojin.dat"
    layout = chukan.load_layout("examples/vendor-a/juki-kojin")
    df = chukan.read(src, layout)
    print(df.select("atena_no", "shimei_kanji", "seinengappi", "seinengappi_partial",
                    "banchi"))

    step("Convert to Parquet and CSV with the CLI, then write both back",
         "Nothing is lost: writing what was read gives the original file byte for byte.")
    cli("read", str(src), "--layout", layout.name, "-o", str(OUT / "juki-kojin.parquet"))
    cli("read", str(src), "--layout", layout.name, "-o", str(OUT / "juki-kojin.csv"))
    for back in ("parquet", "csv"):
        target = OUT / f"juki-kojin.from-{back}.dat"
        cli("write", str(OUT / f"juki-kojin.{back}"), "--layout", layout.name, "-o",
            str(target))
        same = target.read_bytes() == src.read_bytes()
        print(f"  byte-identical to the original: {same}")
        if not same:
            sys.exit("round trip changed the bytes")

    step("Convert to the standard layout (基本データリスト-style CSV) and back",
         "A mapping turns the vendor's export into the standard one, and runs backwards; "
         "each run writes a reject file and a manifest with SHA-256 hashes.")
    cli("convert", str(src), "--mapping", "examples/vendor-a/kojin-to-kihon", "-o",
        str(OUT / "kojin.kihon.csv"))
    print((OUT / "kojin.kihon.csv").read_text(encoding="utf-8").splitlines()[4])
    cli("convert", str(OUT / "kojin.kihon.csv"), "--mapping", "examples/vendor-a/kojin-to-kihon",
        "--reverse", "-o", str(OUT / "kojin.back.dat"))
    same = (OUT / "kojin.back.dat").read_bytes() == src.read_bytes()
    print(f"  back to the original bytes: {same}")
    if not same:
        sys.exit("the mapping did not give the bytes back")

    step("A mainframe-style file: packed and zoned decimals, no line breaks",
         "Packed (COMP-3) and zoned numbers become exact decimals, never floats.")
    print(chukan.read(FIX / "mainframe" / "nouzei.dat", "examples/mainframe/nouzei")
          .select("atena_no", "kazei_gaku", "nofu_gaku", "kanpu_gaku", "nofu_kigen"))

    step("A mainframe 住基 export to 中間標準 (和暦, 2-digit 年号コード) and back",
         "西暦 dates become 和暦 with 2-digit era codes, and come back to the same bytes.")
    host = FIX / "mainframe" / "juki-kojin.dat"
    print(chukan.read(host, "examples/mainframe/juki-kojin")
          .select("atena_no", "setai_no", "kisai_juni", "shimei_kanji", "seinengappi"))
    cli("convert", str(host), "--mapping", "examples/mainframe/kojin-to-chukan", "-o",
        str(OUT / "host.chukan.csv"))
    print((OUT / "host.chukan.csv").read_text(encoding="utf-8").splitlines()[5])
    cli("convert", str(OUT / "host.chukan.csv"), "--mapping",
        "examples/mainframe/kojin-to-chukan", "--reverse", "-o", str(OUT / "host.back.dat"))
    same = (OUT / "host.back.dat").read_bytes() == host.read_bytes()
    print(f"  back to the original bytes: {same}")
    if not same:
        sys.exit("the mapping did not give the host bytes back")

    step("The same export as the host holds it: IBM 930 EBCDIC, 外字 held back",
         "Graphic (PIC G) and mixed SO/SI fields decode strictly; the 外字 at 0x6941 is "
         "reported and its record held back until a 外字 map names it.")
    host930 = FIX / "mainframe" / "juki-kojin-ibm930.dat"
    cli("inspect", str(host930))
    print(chukan.read(host930, "examples/mainframe/juki-kojin-ibm930")
          .select("atena_no", "shimei_kana", "shimei_kanji", "banchi"))
    cli("convert", str(host930), "--mapping", "examples/mainframe/kojin930-to-chukan", "-o",
        str(OUT / "host930.chukan.csv"))
    cli("convert", str(OUT / "host930.chukan.csv"), "--mapping",
        "examples/mainframe/kojin930-to-chukan", "--reverse", "-o", str(OUT / "host930.back.dat"))
    kept = host930.read_bytes()[:320] + host930.read_bytes()[480:]  # the 外字 record held back
    same = (OUT / "host930.back.dat").read_bytes() == kept
    print(f"  the other records back to the host's EBCDIC bytes: {same}")
    if not same:
        sys.exit("the mapping did not give the IBM 930 bytes back")

    step("A Fujitsu (JEF) host: the town's own code-page table",
         "JEF's structure and JIS X 0208 are shipped; the town's table adds its katakana "
         "and two 外字. A code no table maps (0x80A3) reads as U+F80A3 and is reported "
         "with its bytes, never guessed.")
    jef = FIX / "mainframe" / "juki-kojin-jef.dat"
    print(chukan.read(jef, "examples/mainframe/juki-kojin-jef")
          .select("atena_no", "shimei_kana", "shimei_kanji", "banchi"))
    cli("validate", str(jef), "--layout", "examples/mainframe/juki-kojin-jef")
    cli("convert", str(jef), "--mapping", "examples/mainframe/kojinjef-to-chukan", "-o",
        str(OUT / "hostjef.chukan.csv"))

    step("A 全銀 口座振替 multi-record file: header, data, trailer, end",
         "One file, four record kinds; the trailer's counts are checked.")
    frames = chukan.read_records(FIX / "zengin" / "kouza-furikae.dat", "zengin/kouza-furikae")
    for kind, frame in frames.items():
        print(f"  {kind:<8} {frame.height} record(s)")
    print(frames["data"].select("ginko_no", "yokinsha_mei", "hikiotoshi_kingaku"))

    step("Check a defective export: every problem located to the byte",
         "Each problem names the record, the byte offset, the item (Japanese label), the "
         "value and its raw bytes; inspect then shows the first record field by field.")
    bad = bytearray(src.read_bytes())
    bad[202 + 5] = ord("A")  # a letter in 宛名番号 of record 2
    bad[2 * 202 + 81:2 * 202 + 88] = b"4310501"  # 平成31年5月1日 does not exist
    bad[3 * 202 + 150] = 0xFF  # not a CP932 byte, in 番地 of record 4
    (OUT / "defective.dat").write_bytes(bytes(bad[:-40]))  # and a truncated last record
    report = chukan.validate(OUT / "defective.dat", layout)
    print(report.summary())
    for problem in report:
        print(f"  {problem}")
    cli("inspect", str(OUT / "defective.dat"), "--layout", layout.name, "-n", "1")

    step("Validate for the municipality: an HTML report, and a masked one for the vendor",
         "The HTML report is one self-contained page in Japanese; --mask hides personal "
         "values so a report can leave the municipality.")
    cli("validate", str(OUT / "defective.dat"), "--layout", layout.name, "--repertoire",
        "jisx0208", "--format", "html", "-o", str(OUT / "report.html"))
    cli("validate", str(OUT / "defective.dat"), "--layout", layout.name, "--mask",
        "--format", "json", "-o", str(OUT / "report-masked.json"))

    step("The 外字 drawn from the town's own 外字 font",
         "A 外字 lives only in the municipality's 外字 font (Windows EUDC.TTE). With --eudc "
         "the HTML report draws each one beside its code point and bytes, and says which "
         "the font lacks. A small font made here stands in for the town's.")
    from chukan.gaiji import write_eudc  # noqa: PLC0415 -- the gaiji extra, shown here

    # 「⿰土口」-like: a box on the left, a taller one on the right (font units, y up)
    write_eudc(OUT / "EUDC.TTE", {0xE000: [[(80, 40), (80, 420), (400, 420), (400, 40)],
                                           [(480, -60), (480, 780), (940, 780),
                                            (940, -60)]]})
    cli("validate", str(src), "--layout", layout.name, "--format", "html", "-o",
        str(OUT / "report-gaiji.html"), "--eudc", str(OUT / "EUDC.TTE"))
    cli("validate", str(src), "--layout", layout.name, "--eudc", str(OUT / "EUDC.TTE"),
        "--max-errors", "0")

    step("MJ candidates for each 外字, ranked by shape",
         "chukan gaiji candidates draws each 外字 and compares it with the ~60,000 glyphs of "
         "IPAmj明朝. It writes a worksheet (.xlsx and .html) with the closest MJ "
         "characters and an empty 決定 column for staff; chukan gaiji map then turns the "
         "decisions into the mapping's 外字 map (docs/gaiji.md).")
    from chukan.errors import UsageError  # noqa: PLC0415
    from chukan.gaiji._mj import find_mj_font  # noqa: PLC0415

    try:
        find_mj_font()
    except UsageError:
        print("   IPAmj明朝 is not installed here (apt install fonts-ipamj-mincho): skipped.")
    else:
        cli("gaiji", "candidates", "--eudc", str(OUT / "EUDC.TTE"), "-k", "3", "-o",
            str(OUT / "文字同定.xlsx"))

    step("Validate a whole export: persons and households checked against each other",
         "A file set checks references across files: here, a household with two 世帯主.")
    kojin = bytearray(src.read_bytes())
    kojin[202 * 2 + 88:202 * 2 + 90] = b"01"  # a second 世帯主 in household 100
    (OUT / "kojin.dat").write_bytes(bytes(kojin))
    cli("validate", "--set", "examples/vendor-a/juki-set", f"kojin={OUT / 'kojin.dat'}",
        f"setai={FIX / 'vendor-a' / 'juki-setai.dat'}")

    step("A standard CSV with a 不詳-flagged birth date, back to the vendor's layout",
         "生年月日 1950-01-01 with 生年月日_不詳フラグ = 1 is not a definite date: the "
         "vendor's layout has no flag, so the record is rejected, never written as one.")
    lines = (FIX / "vendor-a" / "juki-kojin.kihon.csv").read_bytes().decode("utf-8")
    rows = lines.split("\n")
    cells = rows[1].split(",")
    cells[12], cells[13] = "1950-01-01", "1"
    rows[1] = ",".join(cells)
    (OUT / "town.csv").write_bytes("\n".join(rows).encode("utf-8"))
    cli("convert", str(OUT / "town.csv"), "--mapping", "examples/vendor-a/kojin-to-kihon",
        "--reverse", "-o", str(OUT / "town.dat"))
    rejects = pl.read_csv(OUT / "town.dat.rejects.csv", infer_schema=False)
    for name, value in rejects.row(0, named=True).items():
        print(f"  {name:<11} {value[:90] if value else ''}")

    step("A town's CSV nobody wrote a layout for: inspect it, infer a layout, validate",
         "inspect finds the delimiter, header and a guess per column; layout infer turns "
         "them into a layout (names from the standard's labels), checked against the file.")
    cli("inspect", str(OUT / "town.csv"))
    cli("layout", "infer", str(OUT / "town.csv"), "-o", str(OUT / "town.toml"))
    cli("validate", str(OUT / "town.csv"), "--layout", str(OUT / "town.toml"))

    step("A CSV for the clerk's Excel: BOM, Japanese headers, formulas made inert",
         "--bom makes Excel read UTF-8, --header-labels writes 宛名番号 not atena_no, and "
         "--excel-safe puts an apostrophe before values Excel would run as a formula.")
    cli("read", str(src), "--layout", layout.name, "-o", str(OUT / "for-excel.csv"), "--bom",
        "--header-labels", "--excel-safe")
    head = (OUT / "for-excel.csv").read_bytes()
    bom = head.startswith(b"\xef\xbb\xbf")
    print(f"  starts with the BOM: {bom}; header: "
          f"{head[3:].decode('utf-8').splitlines()[0][:60]}…")

    print(f"\nDone. Files are in {OUT.relative_to(ROOT)}/.")


if __name__ == "__main__":
    main()
