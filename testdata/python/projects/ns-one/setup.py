# Half of a PEP 420 namespace package: dkns/ has no __init__.py, and both
# halves install into it.
from setuptools import setup

setup(name="dk-ns-one", version="1.0", packages=["dkns.one"])
