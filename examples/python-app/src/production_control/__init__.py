"""production-control: a tiny HTTP service used as derrick's example image.

Importing the package has no side effects and pulls in nothing beyond the
standard library's ``os``: heavy imports (yaml, requests, http.server) happen
only in the code paths that need them, so ``--version`` works even on a
python3-minimal interpreter.
"""

import os

__all__ = ["__version__", "get_version"]

DIST_NAME = "production-control"


def get_version():
    """Version from SETUPTOOLS_SCM_PRETEND_VERSION, else installed metadata."""
    pretend = os.environ.get("SETUPTOOLS_SCM_PRETEND_VERSION", "").strip()
    if pretend:
        return pretend
    try:
        # importlib.metadata pulls in email/zipfile/csv, which python3-minimal lacks.
        from importlib.metadata import version

        return version(DIST_NAME)
    except Exception:  # ImportError, PackageNotFoundError, broken metadata
        return "0+unknown"


def __getattr__(name):  # PEP 562: computed lazily, so import stays cheap
    if name == "__version__":
        return get_version()
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
