#!/usr/bin/env python3
"""Write the seed corpora of tests/fuzz/corpus/ from the project's test data.

Seeds are the string literals the unit tests give each parser, the specs of
testdata/ and examples/, the golden tars, and a few hand-written answers of
registries and token servers.  Run from the top of the source tree; the
result is committed, so this only needs running when the tests grow.
"""
import ast
import hashlib
import json
import os
import re
import sys

top = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
out = os.path.join(top, 'tests', 'fuzz', 'corpus')


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), 'wb') as f:
        f.write(data)


def c_literals(path, call):
    """The first string argument of every call `call(` in a C file (adjacent literals joined)."""
    src = open(os.path.join(top, path), encoding='utf-8').read()
    src = re.sub(r'\bDG\b', '"sha256:' + 'a' * 64 + '"', src)
    # test_spec.c's one-stage wrapper, spelt out
    src = re.sub(r'ONE_STAGE\(((?:"(?:[^"\\]|\\.)*"\s*)+)\)',
                 lambda m: '"{\\"stages\\":[{\\"name\\":\\"a\\",\\"layers\\":[" ' + m.group(1) + ' "]}]}"', src)
    # test_wheelsrc.c's wheels-layer wrapper, spelt out
    src = re.sub(r'WHEELS\(((?:"(?:[^"\\]|\\.)*"\s*)+)\)',
                 lambda m: '"{\\"stages\\":[{\\"name\\":\\"a\\"},{\\"name\\":\\"deps\\",\\"layers\\":[{\\"wheels\\":{" '
                 + m.group(1) + ' "}}]}]}"', src)
    # test_debsrc.c's source object and debs-layer wrapper, spelt out
    m = re.search(r'#define SRC ((?:"(?:[^"\\]|\\.)*"\s*(?:\\\n\s*)?)+)', src)
    if m:
        src = re.sub(r'\bSRC\b', m.group(1).replace('\\\n', ' '), src)
    src = re.sub(r'DEBS\(((?:"(?:[^"\\]|\\.)*"\s*)+)\)',
                 lambda m: '"{\\"stages\\":[{\\"name\\":\\"a\\"},{\\"name\\":\\"sys\\",\\"layers\\":[{\\"debs\\":{" '
                 + m.group(1) + ' "}}]}]}"', src)
    for m in re.finditer(re.escape(call) + r'\(\s*[^"()]*?((?:"(?:[^"\\]|\\.)*"\s*)+)', src):
        parts = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))
        try:
            yield ''.join(ast.literal_eval('"' + p + '"') for p in parts)
        except (ValueError, SyntaxError):
            pass


for s in c_literals('tests/unit/test_challenge.c', 'dk_challenges_add'):
    put('challenge', s)
for f, call in (('tests/unit/test_ref.c', 'dk_ref_parse'), ('tests/unit/test_dockerref.c', 'dk_dockerref_parse')):
    for s in c_literals(f, call):
        put('ref', s)
put('ignore', open(os.path.join(top, 'examples/python-app/src/.dockerignore'), 'rb').read())
put('ignore', '\n'.join(c_literals('tests/unit/test_ignore.c', 'dk_ignore_add')) + '\n')
put('ignore', '**/*.log\n!logs\n# comment\n\ufeffa/b\r\n[a-c]?\\*\n!**/keep/**\n')

for spec in ('testdata/golden/derrick.json', 'testdata/golden/full/full.json',
             'examples/python-app/derrick.json', 'examples/python-app/derrick-debian.json',
             'examples/wheels-app/derrick.json'):
    put('spec', open(os.path.join(top, spec), 'rb').read())
for call in ('dk_spec_parse', 'parse_error', 'REFUSED'):
    for f in ('tests/unit/test_spec.c', 'tests/unit/test_wheelsrc.c', 'tests/unit/test_debsrc.c'):
        for s in c_literals(f, call):
            if s.lstrip().startswith('{'):
                put('spec', s)

put('tar', open(os.path.join(top, 'testdata/golden/full/ustar.tar.gz'), 'rb').read())
put('tar', open(os.path.join(top, 'testdata/golden/full/pax.tar'), 'rb').read())
# base layer blobs, read for their maps (tarread, first byte even);
# corpus/tarread/map-symlinks, a cached map (first byte odd), was written
# once with dk_layer_map_encode and is kept
for name in ('ustar.tar.gz', 'pax.tar'):
    blob = open(os.path.join(top, 'testdata/golden/full', name), 'rb').read()
    put('tarread', b'\0' + blob)


def odd_tar(fmt):
    """Names that are not UTF-8, types a layer rarely has, a regular file named like a directory."""
    import io
    import tarfile
    buf = io.BytesIO()
    name = b'caf\xe9/na\xefve'.decode('utf-8', 'surrogateescape')
    with tarfile.open(fileobj=buf, mode='w', format=fmt, encoding='utf-8', errors='surrogateescape') as t:
        for path, kind, link, data in (('caf\u00e9/x', tarfile.REGTYPE, '', b'x'), (name, tarfile.REGTYPE, '', b'y'),
                                       ('lnk', tarfile.SYMTYPE, name, b''), ('dir0/', tarfile.REGTYPE, '', b''),
                                       ('dev', tarfile.CHRTYPE, '', b''), ('hl', tarfile.LNKTYPE, 'lnk', b''),
                                       ('usr/.wh..wh..opq', tarfile.REGTYPE, '', b''), ('L' * 200 + '/f', tarfile.REGTYPE, '', b'z')):
            ti = tarfile.TarInfo(path)
            ti.type, ti.linkname, ti.size = kind, link, len(data)
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


for fmt in (1, 2):  # tarfile.GNU_FORMAT, tarfile.PAX_FORMAT
    put('tarread', b'\0' + odd_tar(fmt))

# archives (first byte even: docker-archive, odd: oci-archive): corpus/archive/ holds a
# two-file image derrick wrote into each, kept as committed

put('token', '{"token": "abc", "expires_in": 300, "issued_at": "2024-01-01T00:00:00Z"}')
put('token', '{"access_token": "abc", "expires_in": 9223372036854775807}')
put('token', '{"token": "", "access_token": "x", "expires_in": -5}')
put('token', '{"token": "t", "expires_in": 1.5e300}')

put('authfile', '{"auths": {"registry.example:5000": {"auth": "dXNlcjpwYXNz"}}}')
put('authfile', '{"auths": {"https://index.docker.io/v1/": {"username": "u", "password": "p"}},'
                ' "credHelpers": {"other.example": "pass"}, "credsStore": "none"}')
put('authfile', '{"auths": {"http://registry.example:5000/v2/": {"identitytoken": "tok"}}}')
put('authfile', '')
put('authfile', '{}\0')

D = 'sha256:' + 'b' * 64
desc = {'mediaType': 'application/vnd.oci.image.layer.v1.tar+gzip', 'digest': D, 'size': 3}
manifest = {'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
            'config': dict(desc, mediaType='application/vnd.oci.image.config.v1+json'),
            'layers': [desc, desc], 'annotations': {'a': 'b'}, 'subject': desc}
artifact = dict(manifest, artifactType='application/example', layers=[])
index = {'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.index.v1+json',
         'manifests': [dict(desc, mediaType='application/vnd.oci.image.manifest.v1+json',
                            platform={'os': 'linux', 'architecture': a, 'variant': v})
                       for a, v in (('amd64', ''), ('arm', 'v7'), ('arm64', 'v8'), ('unknown', ''))]}
config = {'architecture': 'amd64', 'os': 'linux',
          'config': {'Env': ['PATH=/usr/bin:/bin', 'A=1'], 'Cmd': ['sh'], 'Labels': {'l': 'v'},
                     'ExposedPorts': {'80/tcp': {}}},
          'rootfs': {'type': 'layers', 'diff_ids': [D]},
          'history': [{'created_by': 'x'}, {'empty_layer': True}]}
put('image', b'\0' + json.dumps(manifest).encode())
put('image', b'\1' + json.dumps(dict(manifest, mediaType='application/vnd.docker.distribution.manifest.v2+json')).encode())
put('image', b'\0' + json.dumps(artifact).encode())
put('image', b'\2' + json.dumps(index).encode())
put('image', b'\3' + json.dumps(config).encode())

# wheels (fuzz_wheel): the first byte says what follows.  A small wheel that
# passes every check (its name is the one the target gives the file), stored
# and deflated, and its RECORD, METADATA, WHEEL and entry_points.txt alone.
import base64
import io
import zipfile


def wheel_seed(compression):
    di = 'demo_pkg-1.2.0.dist-info'
    files = [
        ('demo_pkg/__init__.py', b'def main():\n    return 0\n', 0o644),
        ('demo_pkg/run.py', b'print(1)\n', 0o755),
        ('nspkg/alpha/__init__.py', b'', 0o644),
        ('demo_pkg-1.2.0.data/scripts/demo-script', b'#!python\nprint(1)\n', 0o755),
        ('demo_pkg-1.2.0.data/data/share/demo/demo.txt', b'demo\n', 0o644),
        ('demo_pkg-1.2.0.data/headers/demo.h', b'#define DEMO 1\n', 0o644),
        (di + '/METADATA', b'Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.2.0\nRequires-Python: >=3.7\n', 0o644),
        (di + '/WHEEL', b'Wheel-Version: 1.0\nGenerator: seeds\nRoot-Is-Purelib: true\nTag: py3-none-any\n', 0o644),
        (di + '/entry_points.txt', b'[console_scripts]\ndemo-cli = demo_pkg:main\n\n[gui_scripts]\ndemo-gui = demo_pkg:main [x]\n', 0o644),
    ]
    record = ''.join('%s,sha256=%s,%d\n' % (n, base64.urlsafe_b64encode(hashlib.sha256(d).digest()).decode().rstrip('='), len(d))
                     for n, d, _ in files) + di + '/RECORD,,\n'
    files.append((di + '/RECORD', record.encode(), 0o644))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', compression) as z:
        for n, d, mode in files:
            zi = zipfile.ZipInfo(n, (2020, 1, 1, 0, 0, 0))
            zi.external_attr = (0o100000 | mode) << 16
            zi.compress_type = compression
            z.writestr(zi, d)
    return buf.getvalue(), files


for comp in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
    blob, members = wheel_seed(comp)
    put('wheel', b'\0' + blob)
for name, data, _ in members:
    if name.endswith('RECORD'):
        put('wheel', b'\1' + data)
    elif name.endswith(('METADATA', 'WHEEL')):
        put('wheel', b'\2' + data)
    elif name.endswith('entry_points.txt'):
        put('wheel', b'\3' + data)
for s in c_literals('tests/unit/test_wheel.c', 'parse_eps'):
    put('wheel', '\3' + s)
put('wheel', b'\1a.py,sha256=x,1\r\n\n"b,""c""",,\n"multi\nline",h,2\nRECORD,,')
# Python packaging (src/python/): the unit tests' versions, specifiers,
# markers and wheel names, and a few spellings packaging normalises
for v in c_literals('tests/unit/test_pyversion.c', 'norm'):
    put('pyversion', v + '\n1.0\n>=1.0,<2')
src = open(os.path.join(top, 'tests/unit/test_pyversion.c'), encoding='utf-8').read()
for spec, ver in re.findall(r'check\("((?:[^"\\]|\\.)*)", "((?:[^"\\]|\\.)*)"\)', src):
    put('pyversion', ver + '\n' + ver + '.post1\n' + spec)
put('pyversion', '1!2.0rc1.post3.dev4+ubuntu.1\n1.0\n~=2.2.post3, !=2.5.*, ===foo')
for m in c_literals('tests/unit/test_pymarkers.c', 'eval'):
    put('pymarker', m)
put('pymarker', '(python_version >= "3.8" and platform_machine in "x86_64 aarch64") or extra == "Test_Extra"')
put('pymarker', "os.name == 'po\\x73ix' and '\\u0033.12' == python_version and platform_release not in 'x'")
for f in ('tests/unit/test_pytags.c',):
    for call in ('rank', 'dk_wheelname_parse'):
        for w in c_literals(f, call):
            put('wheelname', w)
put('wheelname', 'Foo.Bar-1.0-1abc-cp36.cp37.cp312-abi3.none-manylinux2010_x86_64.linux_x86_64.whl')
# Python locks and index pages (testdata/python, and the unit tests' inputs)
py = os.path.join(top, 'testdata', 'python')
toml_text = open(os.path.join(py, 'pylock.toml'), 'rb').read()
put('toml', toml_text)
put('pylock', toml_text)
for name in sorted(os.listdir(py)):
    if name.startswith('requirements'):
        put('requirements', open(os.path.join(py, name), 'rb').read())


def expand(path, macros):
    """A C file's text with its #define'd string macros spelt out as literals."""
    src = open(os.path.join(top, path), encoding='utf-8').read()
    for k, v in macros.items():
        src = re.sub(r'\b%s\b' % k, v, src)
    return src


sha = '"' + 'a' * 64 + '"'
unit = expand('tests/unit/test_pylock.c', {
    'PIP_SHA': sha, 'H': '" --hash=sha256:" ' + sha,
    'HEAD': '"lock-version = \\"1.0\\"\\ncreated-by = \\"t\\"\\n"',
    'WHEEL': '"[[packages.wheels]]\\nurl = \\"https://x.example/a-1-py3-none-any.whl\\"\\nhashes = {sha256 = \\"" '
             + sha + ' "\\"}\\n"'})
tmp = os.path.join(out, '.unit.c')
with open(tmp, 'w') as f:
    f.write(unit)
for call, target in (('pylock_bad', 'pylock'), ('reqs_bad', 'requirements'), ('reqs_ok', 'requirements')):
    for s in c_literals(os.path.relpath(tmp, top), call):
        put(target, s)
os.unlink(tmp)
for s in c_literals('tests/unit/test_toml.c', 'expect_error'):
    put('toml', s)

put('pyindex_json', '{"meta": {"api-version": "1.1"}, "name": "a", "files": [{"filename": "a-1-py3-none-any.whl",'
                    ' "url": "../../f/a-1-py3-none-any.whl#x", "hashes": {"sha256": "' + 'a' * 64 + '"},'
                    ' "requires-python": ">=3.7", "size": 10, "yanked": "why", "core-metadata": {"sha256": "00"}},'
                    ' {"filename": "a-2.tar.gz", "url": "/a-2.tar.gz", "hashes": {}, "yanked": false}]}')
put('pyindex_json', '{"meta": {"api-version": "2.0"}, "files": []}')
put('pyindex_html', '<!DOCTYPE html><html><head><base href="https://m.example/p/"></head><body>\n<!-- c -->\n'
                    '<a href="../../f/a-1-py3-none-any.whl#sha256=' + 'a' * 64 + '" data-requires-python="&gt;=3.7"'
                    ' data-yanked="">a-1-py3-none-any.whl</a><br/>\n<A HREF=/a-2.tar.gz>a&#45;2&#x2e;tar.gz</A>\n'
                    '<a href=\'//h.example/x.whl\'><b>x.whl</b></a></body></html>\n')
# a dpkg status (fuzz_dpkg): libc6 among other stanzas, with an epoch, and none
put('dpkg', 'Package: libc-bin\nVersion: 2.36-9\n\nPackage: libc6\nStatus: install ok installed\nVersion: 2.36-9+deb12u4\n\n')
put('dpkg', 'Package: libc6\nVersion: 1:2.31-13\n')
put('dpkg', 'Package: zlib1g\nVersion: 1:1.2.13.dfsg-1\n')
# .debs (fuzz_deb): byte 0 then a whole package, read and given its database
# entries; byte 1 then a base dpkg status merged with one package.  Packages
# made here: control.tar.gz with control, md5sums, conffiles and a script;
# data.tar in each compression, with a hardlink, a symlink, setuid and owners.
import bz2
import gzip
import lzma
import tarfile


def deb_tar(files, comp):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.GNU_FORMAT) as t:
        for name, kind, payload, mode, uid in files:
            m = tarfile.TarInfo(name)
            m.mode, m.uid, m.gid = mode, uid, uid
            if kind == 'dir':
                m.type = tarfile.DIRTYPE
                t.addfile(m)
            elif kind in ('sym', 'hard'):
                m.type, m.linkname = tarfile.SYMTYPE if kind == 'sym' else tarfile.LNKTYPE, payload
                t.addfile(m)
            else:
                m.size = len(payload)
                t.addfile(m, io.BytesIO(payload))
    raw = buf.getvalue()
    return {'': raw, '.gz': gzip.compress(raw, mtime=0), '.xz': lzma.compress(raw),
            '.bz2': bz2.compress(raw)}[comp]


def deb_ar(members):
    out = b'!<arch>\n'
    for name, data in members:
        out += b'%-16s%-12d%-6d%-6d%-8o%-10d`\n' % (name.encode(), 0, 0, 0, 0o100644, len(data)) + data
        out += b'\n' if len(data) % 2 else b''
    return out


deb_control = deb_tar([
    ('./', 'dir', None, 0o755, 0),
    ('./control', 'file', b'Package: seed\nVersion: 1:1.0-1\nArchitecture: amd64\nMulti-Arch: same\n'
     b'Maintainer: s <s@example.org>\nDepends: libc6 (>= 2.36)\nDescription: seed\n long\n .\n text\n', 0o644, 0),
    ('./md5sums', 'file', b'd41d8cd98f00b204e9800998ecf8427e  usr/bin/tool\n', 0o644, 0),
    ('./conffiles', 'file', b'/etc/seed.conf\n', 0o644, 0),
    ('./postinst', 'file', b'#!/bin/sh\n', 0o755, 0),
], '.gz')
deb_data = [
    ('./', 'dir', None, 0o755, 0), ('./etc/', 'dir', None, 0o755, 0),
    ('./etc/seed.conf', 'file', b'conf\n', 0o644, 0), ('./usr/', 'dir', None, 0o755, 0),
    ('./usr/bin/', 'dir', None, 0o755, 0), ('./usr/bin/tool', 'file', b'', 0o4755, 0),
    ('./usr/bin/tool2', 'hard', './usr/bin/tool', 0o4755, 0), ('./usr/bin/t', 'sym', 'tool', 0o777, 0),
    ('./var/', 'dir', None, 0o755, 0), ('./var/tmp/', 'dir', None, 0o1777, 1234),
]
for comp in ('', '.gz', '.xz', '.bz2'):
    put('deb', b'\0' + deb_ar([('debian-binary', b'2.0\n'), ('_sig', b'x'), ('control.tar.gz', deb_control),
                               ('data.tar' + comp, deb_tar(deb_data, comp))]))
put('deb', b'\1Package: base\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n\n'
    b'Package: seed\nArchitecture: i386\nVersion: 0\n\nPackage: zz\nVersion: 2\n')
put('deb', b'\2#!/bin/sh\nset -e\n# ldconfig\nif [ "$1" = configure ]; then\n'
    b'  update-alternatives --install "$bindir/mailx" mailx \\\n    /usr/bin/bsd-mailx 50\n'
    b'  adduser --system x; /sbin/ldconfig; py3compile -p x; rm -f /etc/adduser.conf\nfi\n')
# Debian repositories (src/debian/): a Release as apt-ftparchive writes it,
# the unit tests' refused ones, and locks written by the unit test's writer
put('debrelease', 'Origin: Debian\nLabel: Debian\nSuite: stable\nVersion: 12.8\nCodename: bookworm\n'
    'Date: Sat, 09 Nov 2024 10:00:00 UTC\nValid-Until: Sat, 16 Nov 2024 10:00:00 UTC\nAcquire-By-Hash: yes\n'
    'Architectures: all amd64 arm64\nComponents: main contrib non-free-firmware\nDescription: Debian 12.8\n'
    'MD5Sum:\n 0ed6d4c8891eb86358b94bb35d9e4da4  1484 contrib/Contents-all\nSHA256:\n'
    ' ' + 'ab' * 32 + '        1484 main/binary-amd64/Packages\n'
    ' ' + '0f' * 32 + '     9234112 main/binary-amd64/Packages.xz\n'
    ' ' + '12' * 32 + '     9876 main/binary-arm64/Packages.gz\n')
for s in ('Suite: a\n\nCodename: b\n', 'Suite: a\n more\n', 'Date: Sat, 01 Jan 2000 24:00:00 +0100\n',
          'SHA256:\n ' + 'ab' * 32 + ' 12 a\n ' + 'ab' * 32 + ' 13 a\n', 'SHA256:\n ' + 'ab' * 32 + ' 99999999999999999999 a\n'):
    put('debrelease', s)
put('deblock', json.dumps({
    'lock-version': 1,
    'sources': [{'url': 'http://127.0.0.1:1/good', 'suite': 'bookworm', 'components': ['main'],
                 'keyring': '/k.gpg', 'trusted': False}],
    'architectures': ['amd64', 'arm64'], 'packages': ['jq', 'curl'],
    'entries': [{'name': n, 'version': '1.6-2.1', 'architecture': a, 'url': 'http://h/pool/%s_%s.deb' % (n, a),
                 'sha256': 'ab' * 32, 'size': 1234, 'why': 'jq -> ' + n}
                for n, a in (('libjq1', 'arm64'), ('jq', 'amd64'), ('libonig5', 'amd64'))]}, indent=2) + '\n')
put('deblock', '{"lock-version": 1, "sources": [], "architectures": [], "packages": [], "entries": []}')
# Debian (src/debian/): the unit tests' stanzas, relation fields and versions,
# and a piece of a real dpkg status (folded fields, Conffiles, versioned Provides)
src = open(os.path.join(top, 'tests/unit/test_debresolve.c'), encoding='utf-8').read()
index = ''.join(re.findall(r'PKG\("([^"]*)", "([^"]*)", "([^"]*)", "((?:[^"\\]|\\.)*)"\)', src) and
                ['Package: %s\nVersion: %s\nArchitecture: %s\n%s\n' % (n, v, a, ast.literal_eval('"' + e + '"'))
                 for n, v, a, e in re.findall(r'PKG\("([^"]*)", "([^"]*)", "([^"]*)", "((?:[^"\\]|\\.)*)"\)', src)])
put('deb822', index)
for s in c_literals('tests/unit/test_deb822.c', 'refused'):
    put('deb822', s)
for s in c_literals('tests/unit/test_deb822.c', 'rel_refused'):
    put('deb822', 'Package: p1\nDepends: ' + s + '\n')
for s in c_literals('tests/unit/test_debresolve.c', 'refused'):
    put('deb822', s)
put('deb822', '# c\nSource: x\n# inside\nBuild-Depends: a1 [amd64 arm64] <!nocheck>, b1 [!i386], c1 <stage1 cross>\n')
put('deb822', 'Package: libgcc-s1\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\n'
    'Multi-Arch: same\nSource: gcc-12\nVersion: 12.2.0-14\nProvides: libgcc1 (= 1:12.2.0-14)\n'
    'Depends: gcc-12-base (= 12.2.0-14), libc6 (>= 2.35)\nDescription: GCC support library\n'
    ' Shared version of the support library.\n\nPackage: debconf\nStatus: install ok installed\n'
    'Version: 1.5.82\nArchitecture: all\nMulti-Arch: foreign\nConffiles:\n /etc/debconf.conf 8c0619\n'
    'Pre-Depends: perl-base (>= 5.20.1-3~)\nProvides: debconf-2.0\n')
src = open(os.path.join(top, 'tests/unit/test_debversion.c'), encoding='utf-8').read()
vs = [ast.literal_eval(v) for v in re.findall(r'"(?:[^"\\]|\\.)*"', src[src.index('asc[] = {'):src.index('};')])]
for a, b in zip(vs, vs[1:]):
    put('debversion', a + '\n' + b)
for s in c_literals('tests/unit/test_debversion.c', 'refused'):
    put('debversion', s + '\n1.0')
put('debversion', '1:2.30~rc1+dfsg-1+b1\n1:2.30-1~bpo12+1')
