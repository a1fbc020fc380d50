"""pandera schemas: the catalogue's files (``catalogue``) and the return sheets' rows (``return_sheet``).

pandera's built-in checks import its data-synthesis strategies, and those import hypothesis wherever it is
installed (it is the tests' dependency, so in every `uv run` of a checkout): a quarter of a second of each
command's start, for a feature validation never uses. The checks are imported here once with hypothesis
hidden; a process that imported hypothesis already (the test suite) keeps it, and so do pandera's strategies there.
"""

import sys

if "hypothesis" not in sys.modules:
    sys.modules["hypothesis"] = None  # `import hypothesis` raises ImportError while this holds
    try:
        import pandera.backends.pandas.builtin_checks  # noqa: F401
    finally:
        del sys.modules["hypothesis"]
