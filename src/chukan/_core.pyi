"""Type stubs of the compiled core (core/src/python.rs)."""

import numpy as np
import numpy.typing as npt

def extract(
    data: npt.NDArray[np.uint8],
    n: int,
    stride: int,
    specs: list[tuple[int, int, str, bool]],
    encoding: str,
    threads: int = 0,
    rewritten: npt.NDArray[np.bool_] | None = None,
) -> list[
    tuple[
        npt.NDArray[np.int64],
        npt.NDArray[np.uint8],
        npt.NDArray[np.bool_],
        npt.NDArray[np.bool_],
        npt.NDArray[np.bool_],
        npt.NDArray[np.bool_] | None,
        npt.NDArray[np.bool_],
    ]
]: ...
def decode(data: bytes, encoding: str) -> str | None: ...
def place(
    out: npt.NDArray[np.uint8],
    stride: int,
    offset: int,
    width: int,
    data: npt.NDArray[np.uint8],
    lengths: npt.NDArray[np.int64],
) -> None: ...
def encode(
    text: npt.NDArray[np.uint8],
    offsets: npt.NDArray[np.int64],
    table: npt.NDArray[np.uint16],
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64], npt.NDArray[np.bool_]]: ...
def transcode(data: bytes, encoding: str) -> bytes: ...
