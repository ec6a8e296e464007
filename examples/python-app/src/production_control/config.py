"""Configuration: a small YAML file plus environment overrides."""

import os

DEFAULT_CONFIG_PATH = "/etc/production-control/config.yaml"

DEFAULTS = {
    "service": {"host": "0.0.0.0", "port": 8000},
    "upstream": {"url": None, "timeout": 5.0},
    "log_level": "INFO",
}


def _merge(base, override):
    out = dict(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(path=None):
    """Read the YAML config (missing file -> defaults); PORT env overrides the port."""
    import yaml  # python3-yaml; imported here so --version needs no third-party code

    path = path or os.environ.get("PRODUCTION_CONTROL_CONFIG", DEFAULT_CONFIG_PATH)
    data = {}
    try:
        with open(path, "r", encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
    except FileNotFoundError:
        pass
    if not isinstance(data, dict):
        raise ValueError("%s: top level must be a mapping" % path)
    cfg = _merge(DEFAULTS, data)
    if os.environ.get("PORT"):
        cfg["service"]["port"] = int(os.environ["PORT"])
    return cfg


def check_upstream(url, timeout=5.0):
    """GET url; return (ok, detail). Used by /health when an upstream is configured."""
    import requests

    try:
        resp = requests.get(url, timeout=timeout)
    except requests.RequestException as exc:
        return False, "%s: %s" % (type(exc).__name__, exc)
    return resp.ok, "HTTP %d" % resp.status_code
