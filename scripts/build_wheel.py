#!/usr/bin/env python3
"""Assembles the truidentidad-mock wheel from a binary that is already built.

The wheel has the layout maturin (`bindings = "bin"`, clients/python/pyproject.toml) gives
it: the pure-Python package `truidentidad_mock` (the pytest plugin), and the binary under
`<name>.data/scripts/`, which pip installs into the environment's `bin` (`Scripts` on
Windows). The metadata (version, dependencies, the pytest11 entry point) is read from
pyproject.toml, so both ways of building agree.

Release wheels come from maturin (`maturin build --release`, docs/packaging.md), which also
gives them a manylinux tag; this script is for a binary built some other way, e.g. the debug
build `cargo test` has just made, so that CI tests the package without compiling twice:

    python3 scripts/build_wheel.py --binary target/debug/truidentidad-mock --out dist/

Prints the wheel's path. Standard library only (Python 3.11+ for tomllib).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIENT = ROOT / "clients" / "python"


def stripped(binary: Path, scratch: Path) -> Path:
    """A copy of `binary` without symbols or debug info when `strip` is on PATH (what
    maturin's `strip = true` does for release wheels): a debug build shrinks about six-fold,
    and packs that much faster. Otherwise `binary` itself."""
    strip = shutil.which("strip")
    if strip is None or sys.platform == "win32":
        return binary
    copy = scratch / binary.name
    subprocess.run([strip, "-o", str(copy), str(binary)], check=True)
    return copy


def default_tag() -> str:
    """`py3-none-linux_x86_64` style: any Python 3, no ABI (the binary is a separate
    process), this OS and machine."""
    machine = platform.machine().lower().replace("amd64", "x86_64").replace("arm64", "aarch64")
    system = sys.platform
    if system.startswith("linux"):
        plat = f"linux_{machine}"
    elif system == "darwin":
        plat = f"macosx_11_0_{'arm64' if machine == 'aarch64' else machine}"
    elif system == "win32":
        plat = "win_amd64" if machine == "x86_64" else "win_arm64"
    else:
        raise SystemExit(f"no wheel tag known for {system}/{machine}; pass --tag")
    return f"py3-none-{plat}"


def metadata(project: dict, readme: str) -> str:
    lines = [
        "Metadata-Version: 2.4",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project['description']}",
        f"License-Expression: {project['license']}",
        f"Requires-Python: {project['requires-python']}",
    ]
    lines += [f"Classifier: {c}" for c in project.get("classifiers", [])]
    lines += [f"Requires-Dist: {d}" for d in project.get("dependencies", [])]
    for extra, deps in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {d}; extra == "{extra}"' for d in deps]
    lines.append("Description-Content-Type: text/markdown")
    return "\n".join(lines) + "\n\n" + readme


def entry_points(project: dict) -> str:
    out = []
    for group, entries in project.get("entry-points", {}).items():
        out.append(f"[{group}]")
        out += [f"{k} = {v}" for k, v in entries.items()]
        out.append("")
    return "\n".join(out)


def record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build(binary: Path, out: Path, tag: str) -> Path:
    pyproject = tomllib.loads((CLIENT / "pyproject.toml").read_text())
    project = pyproject["project"]
    module = pyproject["tool"]["maturin"]["module-name"]
    dist = project["name"].replace("-", "_")
    version = project["version"]
    info = f"{dist}-{version}.dist-info"
    exe = "truidentidad-mock.exe" if "win" in tag.split("-")[-1] else "truidentidad-mock"

    # (name in the wheel, bytes, executable)
    files: list[tuple[str, bytes, bool]] = []
    package_dir = CLIENT / "src" / module
    for path in sorted(package_dir.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files.append((f"{module}/{path.relative_to(package_dir).as_posix()}", path.read_bytes(), False))
    files.append((f"{dist}-{version}.data/scripts/{exe}", binary.read_bytes(), True))
    readme = (CLIENT / project.get("readme", "README.md")).read_text()
    files.append((f"{info}/METADATA", metadata(project, readme).encode(), False))
    files.append((f"{info}/WHEEL", (
        "Wheel-Version: 1.0\nGenerator: truidentidad-mock scripts/build_wheel.py\n"
        f"Root-Is-Purelib: false\nTag: {tag}\n").encode(), False))
    files.append((f"{info}/entry_points.txt", entry_points(project).encode(), False))
    record = [record_line(n, d) for n, d, _ in files] + [f"{info}/RECORD,,"]
    files.append((f"{info}/RECORD", ("\n".join(record) + "\n").encode(), False))

    out.mkdir(parents=True, exist_ok=True)
    wheel = out / f"{dist}-{version}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data, executable in files:
            entry = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = (0o100755 if executable else 0o100644) << 16
            zf.writestr(entry, data)
    return wheel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", type=Path, required=True, help="the built truidentidad-mock")
    parser.add_argument("--out", type=Path, default=Path("dist"), help="directory for the wheel")
    parser.add_argument("--tag", default=None, help="wheel tag (default: py3-none-<this platform>)")
    args = parser.parse_args()
    if not (args.binary.is_file() and os.access(args.binary, os.X_OK)):
        raise SystemExit(f"{args.binary} is not an executable file; build it first (cargo build)")
    with tempfile.TemporaryDirectory() as scratch:
        print(build(stripped(args.binary, Path(scratch)), args.out, args.tag or default_tag()))


if __name__ == "__main__":
    main()
