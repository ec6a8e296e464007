# A tiny C extension: a platform wheel (cp311-cp311-linux_x86_64, retagged
# manylinux_2_17_x86_64 by the builder as auditwheel would name it).
from setuptools import Extension, setup

setup(
    name="dk-cext",
    version="0.3.0",
    packages=["dkcext"],
    ext_modules=[Extension("dkcext._speed", ["dkcext/_speed.c"])],
)
