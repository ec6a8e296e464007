from ext_pkg._speed import answer  # noqa: F401
