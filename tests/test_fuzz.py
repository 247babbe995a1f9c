"""The fuzz harness of ``fuzz/fuzz.py``, bounded, in every test run: mutated fixtures and
layouts through read, validate, convert and the loader end in a result or a
``ChukanError``, and the invariants hold (issue 13, "fuzzing stays"). The long run is
``python fuzz/fuzz.py --count 1000000``."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parent.parent / "fuzz" / "fuzz.py"


def _harness():
    spec = importlib.util.spec_from_file_location("chukan_fuzz", FUZZ)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["chukan_fuzz"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fuzzed_inputs_end_in_results_or_chukan_errors(seed: int) -> None:
    done, findings = _harness().run(150, seed, log=lambda _: None)
    assert sum(done.values()) == 150
    assert findings == [], findings[0]
