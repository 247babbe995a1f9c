"""What every test run needs: the reference kernel in place of the core wherever a test
sets ``CHUKAN_KERNEL=python`` (see ``reference_kernel.py``)."""

from __future__ import annotations

from chukan import _kernel
from reference_kernel import extract_python

_kernel.REFERENCE = extract_python
