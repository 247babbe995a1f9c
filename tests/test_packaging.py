"""The wheel holds what an installed chukan needs: the compiled core and every shipped
layout, code table and mapping (src/chukan/layouts links to layouts/ in the source
tree), so that it installs and runs without Rust."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from helpers import ROOT


def test_the_wheel_holds_the_core_and_every_shipped_layout(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", str(ROOT), "-w", str(tmp_path)],
                   check=True, capture_output=True)
    (wheel,) = tmp_path.glob("chukan-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert any(n.startswith("chukan/_core") for n in names)
    shipped = {f"chukan/layouts/{p.relative_to(ROOT / 'layouts').as_posix()}"
               for p in (ROOT / "layouts").rglob("*.toml")}
    assert shipped and shipped <= names
