"""deblock_oracle.py - a `debs` lock written by apt, not by derrick (the
oracle of tests/e2e/debs_layer.sh and debs_run.sh).

  deblock_oracle.py --mirror DIR --url URL --keyring K [--trusted]
                    --status FILE|none --arch ARCH --state DIR --out LOCK PKG...

apt-get, with a private state directory (STATE) and the mirror root DIR as a
file: source, resolves `install --simulate --no-install-recommends PKG...` on
top of the dpkg status FILE ("none": an empty status, a base without dpkg);
every "Inst" line becomes a lock entry whose url, sha256 and size are the
mirror's Packages stanza of that name, version and architecture (url = URL +
"/" + Filename).  The lock's source is URL, suite bookworm, component main,
keyring K as given, so that a spec naming the same source matches it.
Exit 1, saying why, when apt fails or a package has no stanza.
"""
import argparse, json, os, re, subprocess, sys

SUITE = "bookworm"


def stanzas(path):
    with open(path) as f:
        for block in f.read().split("\n\n"):
            st = {}
            for line in block.splitlines():
                if line and not line[0].isspace() and ":" in line:
                    k, v = line.split(":", 1)
                    st[k] = v.strip()
            if st:
                yield st


def apt(state, status, arch, mirror, args):
    opts = ["-q", "-q", "-o", "Dir::State::status=" + status, "-o", "Dir::State=" + state + "/state",
            "-o", "Dir::State::lists=" + state + "/lists", "-o", "Dir::Cache=" + state + "/cache",
            "-o", "Dir::Etc::SourceList=" + state + "/sources.list", "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", "Dir::Etc::Preferences=/dev/null", "-o", "Dir::Etc::PreferencesParts=/dev/null",
            "-o", "Debug::NoLocking=1", "-o", "APT::Sandbox::User=root",
            "-o", "APT::Architecture=" + arch, "-o", "APT::Architectures=" + arch]
    return subprocess.run(["apt-get"] + opts + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)


def main():
    ap = argparse.ArgumentParser()
    for a in ("--mirror", "--url", "--keyring", "--status", "--arch", "--state", "--out"):
        ap.add_argument(a, required=a != "--keyring")
    ap.add_argument("--trusted", action="store_true")
    ap.add_argument("packages", nargs="+")
    o = ap.parse_args()
    for d in ("state", "lists/partial", "cache/archives/partial"):
        os.makedirs(os.path.join(o.state, d), exist_ok=True)
    status = os.path.abspath(o.status)       # apt reads a relative one below Dir::State
    if o.status == "none":
        status = os.path.join(o.state, "empty-status")
        open(status, "w").close()
    with open(os.path.join(o.state, "sources.list"), "w") as f:
        f.write("deb [trusted=yes arch=%s] file:%s %s main\n" % (o.arch, os.path.abspath(o.mirror), SUITE))
    r = apt(o.state, status, o.arch, o.mirror, ["update"])
    if r.returncode:
        sys.exit("apt-get update: " + r.stderr.strip())
    r = apt(o.state, status, o.arch, o.mirror, ["install", "--simulate", "--no-install-recommends"] + o.packages)
    if r.returncode:
        sys.exit("apt-get install --simulate: " + r.stderr.strip())
    # "Inst libonig5 (6.9.8-1 bookworm [amd64])"; an upgrade has "[old]" before "(", a
    # package of a dependency loop " []" after ")"
    inst = re.findall(r"^Inst (\S+) (?:\[\S+\] )?\((\S+) .*?\[(\S+)\]\)", r.stdout, re.M)
    if not inst:
        sys.exit("apt installs nothing:\n" + r.stdout)
    index = {}
    for a in (o.arch, ):
        for st in stanzas(os.path.join(o.mirror, "dists", SUITE, "main", "binary-" + a, "Packages")):
            index[(st["Package"], st["Version"], st["Architecture"])] = st
    entries = []
    for name, version, arch in inst:
        st = index.get((name, version, arch))
        if st is None:
            sys.exit("%s %s %s: not in the mirror's Packages" % (name, version, arch))
        entries.append({"name": name, "version": version, "architecture": arch,
                        "url": o.url + "/" + st["Filename"], "sha256": st["SHA256"], "size": int(st["Size"]),
                        "why": "requested" if name in o.packages else "apt"})
    entries.sort(key=lambda e: (e["name"].encode(), e["architecture"].encode()))
    src = {"url": o.url, "suite": SUITE, "components": ["main"]}
    if o.keyring:
        src["keyring"] = o.keyring
    src["trusted"] = o.trusted
    lock = {"lock-version": 1, "sources": [src], "architectures": [o.arch],
            "packages": sorted(o.packages), "entries": entries}
    with open(o.out, "w") as f:
        f.write(json.dumps(lock, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
