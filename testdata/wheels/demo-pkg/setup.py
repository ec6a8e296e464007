from setuptools import setup

setup(
    name="demo-pkg",
    version="1.2.0",
    packages=["demo_pkg", "demo_pkg.sub", "nspkg.alpha"],
    python_requires=">=3.7",
    scripts=["scripts/demo-script", "scripts/demo-shell"],
    data_files=[("share/demo", ["data/demo.txt"])],
    headers=["include/demo.h"],
    entry_points={
        "console_scripts": [
            "demo-cli = demo_pkg:main",
            "demo.tool = demo_pkg.sub:Tool.run [extra]",
        ],
        "gui_scripts": ["demo-gui = demo_pkg:gui"],
    },
)
