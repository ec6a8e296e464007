# Collides with dk-clash-b: both install dkclash.py.
from setuptools import setup

setup(name="dk-clash-a", version="1.0", py_modules=["dkclash"])
