"""Print the versions of the packages the wheels layer installed, and run one of its console scripts."""
import subprocess
import sys

# setuptools before pip: imported after pip, setuptools wants the standard library's distutils, which
# Debian ships apart (python3-distutils); imported first, it brings its own
import setuptools
import wheel
import pip

print("python", sys.version.split()[0], flush=True)
print("pip", pip.__version__, "setuptools", setuptools.__version__, "wheel", wheel.__version__, flush=True)
# /usr/local/bin/wheel is the wrapper the wheels layer wrote for wheel's console script
sys.exit(subprocess.call(["/usr/local/bin/wheel", "version"]))
