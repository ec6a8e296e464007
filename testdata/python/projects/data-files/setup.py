# A script with a "#!python" shebang (.data/scripts), a data file
# (.data/data) and a header (.data/headers).
from setuptools import setup

setup(
    name="dk-data-files",
    version="2.1",
    packages=["dkdata"],
    scripts=["scripts/dk-data-script"],
    data_files=[("share/dk-data-files", ["data/readme.txt"])],
    headers=["include/dkdata.h"],
)
