"""What only the installed wheel can show: no checkout, no cargo, no TRUIDENTIDAD_MOCK_BIN.
CI (.ci/run, scripts/package_smoke.sh) runs it, with the README's test (test_readme.py), in a
scratch venv where the only truidentidad-mock is the one `pip install <wheel>` put in its bin."""

import os
import subprocess
import sys

from truidentidad_mock import __version__, find_binary


def test_the_binary_is_the_one_the_wheel_installed():
    assert "TRUIDENTIDAD_MOCK_BIN" not in os.environ
    assert os.path.dirname(find_binary()) == os.path.dirname(sys.executable)


def test_the_binary_is_this_packages_version():
    printed = subprocess.run([find_binary(), "--version"], capture_output=True, text=True,
                             check=True).stdout
    assert printed.startswith(f"truidentidad-mock {__version__} (commit ")
