"""`make demo`: an end-to-end tour on the bundled sample data.

Reads a CP932 fixed-width export, converts it to Parquet and CSV and back (checking the
bytes are identical), maps it to a standard layout and back, reads a mainframe file with
packed decimals and converts a mainframe 住基 file to 中間標準 and back, reads a 全銀
multi-record file, then reads a defective export leniently and prints where every problem is.
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


def step(title: str) -> None:
    print(f"\n== {title}")


def cli(*args: str) -> None:
    """Run the command line as a user would, and show it."""
    print("$ chukan " + " ".join(args))
    done = subprocess.run([sys.executable, "-m", "chukan", *args], capture_output=True,
                          text=True, encoding="utf-8", errors="replace", check=False)
    for line in (done.stdout + done.stderr).splitlines()[:14]:
        print("  " + line)
    print(f"  (exit code {done.returncode})")


def main() -> None:
    OUT.mkdir(exist_ok=True)
    pl.Config.set_tbl_width_chars(120)
    pl.Config.set_tbl_cols(8)

    step("Layouts shipped with chukan")
    for name in sorted(chukan.available_layouts()):
        print("  " + name)

    step("Read a CP932 fixed-width export (examples/vendor-a/juki-kojin)")
    src = FIX / "vendor-a" / "juki-kojin.dat"
    layout = chukan.load_layout("examples/vendor-a/juki-kojin")
    df = chukan.read(src, layout)
    print(df.select("atena_no", "shimei_kanji", "seinengappi", "seinengappi_partial",
                    "banchi"))

    step("Convert to Parquet and CSV with the CLI, then write both back")
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

    step("Convert to the standard layout (基本データリスト-style CSV) and back")
    cli("convert", str(src), "--mapping", "examples/vendor-a/kojin-to-kihon", "-o",
        str(OUT / "kojin.kihon.csv"))
    print((OUT / "kojin.kihon.csv").read_text(encoding="utf-8").splitlines()[4])
    cli("convert", str(OUT / "kojin.kihon.csv"), "--mapping", "examples/vendor-a/kojin-to-kihon",
        "--reverse", "-o", str(OUT / "kojin.back.dat"))
    same = (OUT / "kojin.back.dat").read_bytes() == src.read_bytes()
    print(f"  back to the original bytes: {same}")
    if not same:
        sys.exit("the mapping did not give the bytes back")

    step("A mainframe-style file: packed and zoned decimals, no line breaks")
    print(chukan.read(FIX / "mainframe" / "nouzei.dat", "examples/mainframe/nouzei")
          .select("atena_no", "kazei_gaku", "nofu_gaku", "kanpu_gaku", "nofu_kigen"))

    step("A mainframe 住基 export to 中間標準 (和暦, 2-digit 年号コード) and back")
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

    step("A 全銀 口座振替 multi-record file: header, data, trailer, end")
    frames = chukan.read_records(FIX / "zengin" / "kouza-furikae.dat", "zengin/kouza-furikae")
    for kind, frame in frames.items():
        print(f"  {kind:<8} {frame.height} record(s)")
    print(frames["data"].select("ginko_no", "yokinsha_mei", "hikiotoshi_kingaku"))

    step("Check a defective export: every problem located to the byte")
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

    step("Validate for the municipality: an HTML report, and a masked one for the vendor")
    cli("validate", str(OUT / "defective.dat"), "--layout", layout.name, "--repertoire",
        "jisx0208", "--format", "html", "-o", str(OUT / "report.html"))
    cli("validate", str(OUT / "defective.dat"), "--layout", layout.name, "--mask",
        "--format", "json", "-o", str(OUT / "report-masked.json"))

    step("Validate a whole export: persons and households checked against each other")
    kojin = bytearray(src.read_bytes())
    kojin[202 * 2 + 88:202 * 2 + 90] = b"01"  # a second 世帯主 in household 100
    (OUT / "kojin.dat").write_bytes(bytes(kojin))
    cli("validate", "--set", "examples/vendor-a/juki-set", f"kojin={OUT / 'kojin.dat'}",
        f"setai={FIX / 'vendor-a' / 'juki-setai.dat'}")

    print(f"\nDone. Files are in {OUT.relative_to(ROOT)}/.")


if __name__ == "__main__":
    main()
