# Collides with dk-clash-a: both install dkclash.py.
from setuptools import setup

setup(name="dk-clash-b", version="1.0", py_modules=["dkclash"])
