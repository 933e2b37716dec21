#!/usr/bin/env python3
"""Packs the npm packages: `truidentidad-mock` (the Node.js helper, clients/node) and one
`@truidentidad-mock/<os>-<cpu>` package per binary given, which holds only that binary and
says which `os`/`cpu` it runs on. The main package lists the platform packages as optional
dependencies, so npm installs the one that fits the machine and skips the rest, as esbuild
and biome ship theirs; `startMock()` finds it there (clients/node/index.js, `findBinary`).

    python3 scripts/build_npm.py --out dist/ --binary linux-x64=target/debug/truidentidad-mock

A release passes every platform of the matrix in docs/packaging.md (one `--binary` each) so
that the main package lists them all; CI passes the one it built. Prints the tarballs' paths.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from build_wheel import stripped

ROOT = Path(__file__).resolve().parent.parent
CLIENT = ROOT / "clients" / "node"
SCOPE = "@truidentidad-mock"
# npm's names (process.platform / process.arch) for a platform key `<os>-<cpu>`.
KNOWN_OS = {"linux", "darwin", "win32"}
KNOWN_CPU = {"x64", "arm64"}


def native() -> str:
    """This machine's platform key, as Node names it (`linux-x64`): only a native binary can
    be stripped here."""
    machine = platform.machine().lower()
    cpu = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return f"{ {'linux': 'linux', 'darwin': 'darwin', 'win32': 'win32'}.get(sys.platform, sys.platform)}-{cpu}"


def pack(directory: Path, out: Path) -> Path:
    done = subprocess.run(
        ["npm", "pack", "--json", "--pack-destination", str(out.resolve())],
        cwd=directory, check=True, capture_output=True, text=True)
    return out / json.loads(done.stdout)[0]["filename"]


def platform_package(key: str, binary: Path, version: str, stage: Path) -> Path:
    os_name, cpu = key.split("-", 1)
    if os_name not in KNOWN_OS or cpu not in KNOWN_CPU:
        raise SystemExit(f"unknown platform {key}: expected <{'|'.join(sorted(KNOWN_OS))}>-<{'|'.join(sorted(KNOWN_CPU))}>")
    directory = stage / key
    (directory / "bin").mkdir(parents=True)
    exe = "truidentidad-mock.exe" if os_name == "win32" else "truidentidad-mock"
    shutil.copyfile(binary, directory / "bin" / exe)
    (directory / "bin" / exe).chmod(0o755)
    (directory / "package.json").write_text(json.dumps({
        "name": f"{SCOPE}/{key}",
        "version": version,
        "description": f"The truidentidad-mock binary for {key}; installed by the truidentidad-mock package",
        "license": "MIT OR Apache-2.0",
        "os": [os_name],
        "cpu": [cpu],
        "files": ["bin/"],
        "preferUnplugged": True,
    }, indent=2) + "\n")
    (directory / "README.md").write_text(
        f"# {SCOPE}/{key}\n\nThe `truidentidad-mock` binary for {key}. Install "
        "`truidentidad-mock` instead: it depends on this package on this platform.\n")
    return directory


def main_package(keys: list[str], stage: Path) -> Path:
    directory = stage / "main"
    shutil.copytree(CLIENT, directory, ignore=shutil.ignore_patterns(
        "node_modules", "example", "test", ".*"))
    manifest = json.loads((CLIENT / "package.json").read_text())
    manifest["optionalDependencies"] = {f"{SCOPE}/{k}": manifest["version"] for k in sorted(keys)}
    (directory / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", action="append", required=True, metavar="OS-CPU=PATH",
                        help="a platform's binary, e.g. linux-x64=target/release/truidentidad-mock")
    parser.add_argument("--out", type=Path, default=Path("dist"))
    args = parser.parse_args()
    version = json.loads((CLIENT / "package.json").read_text())["version"]
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp)
        keys = []
        for spec in args.binary:
            key, _, path = spec.partition("=")
            if not Path(path).is_file():
                raise SystemExit(f"{path} is not a file; build it first (cargo build)")
            keys.append(key)
            binary = stripped(Path(path), stage) if key == native() else Path(path)
            print(pack(platform_package(key, binary, version, stage), args.out))
        print(pack(main_package(keys, stage), args.out))


if __name__ == "__main__":
    main()
