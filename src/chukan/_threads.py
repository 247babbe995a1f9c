"""How many threads the core uses: ``threads=`` of the call, else ``CHUKAN_THREADS``,
else one per core. The choice is a context variable, so that each call keeps its own;
work handed to a thread pool goes with a copy of the context (:func:`submit`), or the
worker would not see it."""

from __future__ import annotations

import contextvars
import os
from contextlib import contextmanager
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from chukan.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from concurrent.futures import Executor, Future

_P = ParamSpec("_P")
_T = TypeVar("_T")

#: the most threads a call may ask for: far more than any machine chukan runs on has
#: cores, and few enough that a typo (threads=100000) is an error, not a hang while
#: the operating system starts them (the core refuses more too)
MAX_THREADS = 256

#: threads for the core in this context (None: ``CHUKAN_THREADS``, else one per core)
_THREADS: contextvars.ContextVar[int | None] = contextvars.ContextVar("chukan_threads",
                                                                      default=None)


@contextmanager
def using_threads(threads: int | None) -> Iterator[None]:
    """Run the core on ``threads`` threads within the block (None: leave it as it is).

    >>> with using_threads(1):
    ...     thread_count()
    1
    """
    if threads is not None and not 1 <= threads <= MAX_THREADS:
        msg = f"threads must be 1 or more, not {threads}" if threads < 1 else \
            f"threads must be at most {MAX_THREADS}, not {threads}"
        raise UsageError(msg)
    token = _THREADS.set(threads) if threads is not None else None
    try:
        yield
    finally:
        if token is not None:
            _THREADS.reset(token)


def thread_count() -> int:
    """The core's threads here: ``threads=``, else ``CHUKAN_THREADS``, else 0 (one per
    core)."""
    chosen = _THREADS.get()
    if chosen is not None:
        return chosen
    env = os.environ.get("CHUKAN_THREADS", "")
    threads = int(env) if env.isdigit() else 0
    if threads > MAX_THREADS:
        msg = f"CHUKAN_THREADS must be at most {MAX_THREADS}, not {threads}"
        raise UsageError(msg)
    return threads


def submit(pool: Executor, fn: Callable[_P, _T], /, *args: _P.args,
           **kwargs: _P.kwargs) -> Future[_T]:
    """``pool.submit``, the work run in a copy of this context (``threads=`` with it).

    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with using_threads(1), ThreadPoolExecutor(1) as pool:
    ...     submit(pool, thread_count).result()
    1
    """
    context = contextvars.copy_context()

    def run() -> _T:
        return context.run(fn, *args, **kwargs)

    return pool.submit(run)
