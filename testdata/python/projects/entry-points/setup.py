# Console and GUI entry points, one of them with a dotted attribute.
from setuptools import setup

setup(
    name="dk-entry-points",
    version="1.0.0",
    packages=["dkentry"],
    entry_points={
        "console_scripts": [
            "dk-hello = dkentry.cli:main",
            "dk-hello-nested = dkentry.cli:Greeter.run",
        ],
        "gui_scripts": ["dk-hello-gui = dkentry.cli:gui"],
    },
)
