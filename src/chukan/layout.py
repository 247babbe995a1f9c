"""The layout model, under its first name: everything in :mod:`chukan.spec` (layouts, file
sets, mappings) is importable from here as well."""

from chukan.spec import *  # noqa: F403 -- the spec layer's names, under their first module
from chukan.spec import __all__ as __all__  # noqa: PLC0414 -- re-exported as they are
