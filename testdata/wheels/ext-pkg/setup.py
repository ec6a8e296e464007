from setuptools import Extension, setup

setup(
    name="ext_pkg",
    version="0.3",
    packages=["ext_pkg", "nspkg.beta"],
    ext_modules=[Extension("ext_pkg._speed", ["ext_pkg/_speed.c"])],
)
