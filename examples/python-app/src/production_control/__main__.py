"""Command line entry point: ``python3 -m production_control [OPTION]``.

Three fixed options do not need argparse; parsing them by hand keeps
``--version`` down to a handful of stdlib imports, so it also runs on a
python3-minimal interpreter (no http, email or json modules there).
"""

import sys

from . import DIST_NAME, get_version

USAGE = """usage: python3 -m production_control [--version | --check-imports | --help]

  (no option)       serve HTTP on 0.0.0.0:$PORT (default 8000)
  --version         print "production-control VERSION"
  --check-imports   import the runtime dependencies and show where they come from
"""

# import name -> distribution, in dependency order (requests last: it imports the rest)
CHECKED_MODULES = ("yaml", "idna", "certifi", "urllib3", "charset_normalizer", "requests")


def check_imports(out=sys.stdout):
    import importlib

    failed = 0
    for name in CHECKED_MODULES:
        try:
            mod = importlib.import_module(name)
        except Exception as exc:  # report every module, not just the first failure
            out.write("%-20s FAILED  %s: %s\n" % (name, type(exc).__name__, exc))
            failed += 1
            continue
        ver = getattr(mod, "__version__", None) or "?"
        out.write("%-20s %-12s %s\n" % (name, ver, getattr(mod, "__file__", "?")))
    return 1 if failed else 0


def main(argv=None):
    args = sys.argv[1:] if argv is None else list(argv)
    if not args:
        from .app import serve

        return serve()
    if len(args) == 1 and args[0] == "--version":
        sys.stdout.write("%s %s\n" % (DIST_NAME, get_version()))
        return 0
    if len(args) == 1 and args[0] == "--check-imports":
        return check_imports()
    if len(args) == 1 and args[0] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return 0
    sys.stderr.write(USAGE)
    return 2


if __name__ == "__main__":
    sys.exit(main())
