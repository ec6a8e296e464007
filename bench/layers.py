#!/usr/bin/env python3
"""Print the layers of an image in an OCI layout as JSON, read with no tool.

usage: layers.py LAYOUT_DIR [TAG]

Output: {"layers": [{"digest": ..., "size": N, "mediaType": ...}], "total": N}
(sizes are the compressed blob sizes from the manifest, checked against the
blob files). Without TAG the layout must hold exactly one image.
"""
import json
import os
import sys


def blob(layout, digest):
    algo, hexd = digest.split(":", 1)
    return os.path.join(layout, "blobs", algo, hexd)


def main():
    layout = sys.argv[1]
    tag = sys.argv[2] if len(sys.argv) > 2 else None
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    ms = index["manifests"]
    if tag is not None:
        ms = [m for m in ms
              if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag]
    if len(ms) != 1:
        sys.exit(f"layers.py: {layout}: expected one image{' tagged ' + tag if tag else ''}, found {len(ms)}")
    with open(blob(layout, ms[0]["digest"])) as f:
        manifest = json.load(f)
    layers = []
    for l in manifest.get("layers", []):
        real = os.path.getsize(blob(layout, l["digest"]))
        if real != l["size"]:
            sys.exit(f"layers.py: {l['digest']}: manifest says {l['size']} bytes, blob has {real}")
        layers.append({"digest": l["digest"], "size": l["size"], "mediaType": l["mediaType"]})
    json.dump({"layers": layers, "total": sum(l["size"] for l in layers)}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
