"""Print the versions of the packages the wheels layer installed, and run one of its console scripts."""
import subprocess
import sys

import pip
import setuptools
import wheel

print("python", sys.version.split()[0])
print("pip", pip.__version__, "setuptools", setuptools.__version__, "wheel", wheel.__version__)
# /usr/local/bin/wheel is the wrapper the wheels layer wrote for wheel's console script
sys.exit(subprocess.call(["/usr/local/bin/wheel", "version"]))
