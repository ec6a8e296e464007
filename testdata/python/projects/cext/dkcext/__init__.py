from dkcext._speed import add  # noqa: F401
