#!/usr/bin/env python3
"""oci_layout.py - write test images into an OCI layout by hand: what
derrick does not write itself (multi-platform indexes as BuildKit writes
them, attestations, artifacts), so that readers can be tested on them.

  oci_layout.py index LAYOUT TAG [--annotation K=V|K=@FILE]... ENTRY...
      an image index tagged TAG whose entries are images already tagged in
      LAYOUT: ENTRY is SRC_TAG=OS/ARCH[/VARIANT] (the entry's platform, written
      as given: no variant means none), or attestation=SRC_TAG (a BuildKit
      attestation manifest for that image: platform unknown/unknown, the
      vnd.docker.reference.* annotations)
  oci_layout.py artifact LAYOUT TAG [--type T] [--config MEDIATYPE=FILE]
                [--subject SRC_TAG] [--blob MEDIATYPE=FILE[=TITLE]]...
                [--annotation K=V|K=@FILE]...
      an OCI 1.1 artifact manifest tagged TAG: artifactType T, the empty
      config (or the given one), the blobs as layers, a subject
  oci_layout.py tags LAYOUT
      prints "TAG DIGEST SIZE" for every tagged descriptor in index.json

Prints the new manifest's digest.  Tags are replaced as derrick replaces
them: one entry per tag in index.json.
"""
import hashlib
import json
import os
import sys

REF = "org.opencontainers.image.ref.name"
EMPTY = b"{}"


def put_blob(layout, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = os.path.join(layout, "blobs", "sha256", digest[7:])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return digest


def load_index(layout):
    with open(os.path.join(layout, "index.json")) as f:
        return json.load(f)


def descriptor(layout, tag):
    for m in load_index(layout)["manifests"]:
        if m.get("annotations", {}).get(REF) == tag:
            return {k: m[k] for k in ("mediaType", "digest", "size")}
    sys.exit(f"oci_layout.py: no image tagged {tag} in {layout}")


def tag_manifest(layout, tag, media_type, data):
    digest = put_blob(layout, data)
    index = load_index(layout)
    index["manifests"] = [m for m in index["manifests"] if m.get("annotations", {}).get(REF) != tag]
    index["manifests"].append({"mediaType": media_type, "digest": digest, "size": len(data),
                               "annotations": {REF: tag}})
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(index, f)
    print(digest)


def attestation(layout, subject):
    statement = json.dumps({"_type": "https://in-toto.io/Statement/v0.1",
                            "predicateType": "https://slsa.dev/provenance/v0.2",
                            "subject": [{"digest": {"sha256": subject["digest"][7:]}}],
                            "predicate": {}}).encode()
    layer = {"mediaType": "application/vnd.in-toto+json", "digest": put_blob(layout, statement),
             "size": len(statement),
             "annotations": {"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"}}
    config = json.dumps({"architecture": "unknown", "os": "unknown", "config": {},
                         "rootfs": {"type": "layers",
                                    "diff_ids": [layer["digest"]]}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": put_blob(layout, config), "size": len(config)},
                           "layers": [layer]}).encode()
    return {"mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": put_blob(layout, manifest), "size": len(manifest),
            "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                            "vnd.docker.reference.digest": subject["digest"]},
            "platform": {"architecture": "unknown", "os": "unknown"}}


def cmd_index(layout, tag, entries):
    manifests, annotations = [], {}
    it = iter(entries)
    for e in it:
        if e == "--annotation":
            k, _, v = next(it).partition("=")
            annotations[k] = open(v[1:]).read() if v.startswith("@") else v
            continue
        src, _, plat = e.partition("=")
        if src == "attestation":
            manifests.append(attestation(layout, descriptor(layout, plat)))
            continue
        d = descriptor(layout, src)
        parts = plat.split("/")
        d["platform"] = {"architecture": parts[1], "os": parts[0]}
        if len(parts) > 2:
            d["platform"]["variant"] = parts[2]
        manifests.append(d)
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": manifests}
    if annotations:
        index["annotations"] = annotations
    tag_manifest(layout, tag, index["mediaType"], json.dumps(index).encode())


def cmd_artifact(layout, tag, args):
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}
    config = {"mediaType": "application/vnd.oci.empty.v1+json", "digest": put_blob(layout, EMPTY),
              "size": len(EMPTY), "data": "e30="}
    layers, annotations = [], {}
    it = iter(args)
    for flag in it:
        value = next(it)
        if flag == "--type":
            manifest["artifactType"] = value
        elif flag == "--config":
            mt, _, path = value.partition("=")
            data = open(path, "rb").read()
            config = {"mediaType": mt, "digest": put_blob(layout, data), "size": len(data)}
        elif flag == "--subject":
            manifest["subject"] = descriptor(layout, value)
        elif flag == "--blob":
            mt, path, *title = value.split("=")
            data = open(path, "rb").read()
            layer = {"mediaType": mt, "digest": put_blob(layout, data), "size": len(data)}
            if title:
                layer["annotations"] = {"org.opencontainers.image.title": title[0]}
            layers.append(layer)
        elif flag == "--annotation":
            k, _, v = value.partition("=")
            annotations[k] = open(v[1:]).read() if v.startswith("@") else v
        else:
            sys.exit(f"oci_layout.py: unknown flag {flag}")
    manifest["config"] = config
    # image-spec 1.1: an artifact without blobs has the empty descriptor as its one layer
    manifest["layers"] = layers or [{k: config[k] for k in ("mediaType", "digest", "size")}]
    if annotations:
        manifest["annotations"] = annotations
    tag_manifest(layout, tag, manifest["mediaType"], json.dumps(manifest).encode())


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "tags":
        for m in load_index(sys.argv[2])["manifests"]:
            if REF in m.get("annotations", {}):
                print(m["annotations"][REF], m["digest"], m["size"])
        return
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    cmd, layout, tag, rest = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    if cmd == "index":
        cmd_index(layout, tag, rest)
    elif cmd == "artifact":
        cmd_artifact(layout, tag, rest)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
