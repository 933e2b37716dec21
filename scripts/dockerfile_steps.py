#!/usr/bin/env python3
"""Runs the Dockerfile's steps without a container engine, in a clean directory.

CI machines here cannot pull base images (no container registry is reachable), so the image
itself cannot be built. This script does the next best thing with the Dockerfile as written:

- each stage gets an empty directory standing in for its root filesystem;
- `COPY . .` copies the build context, leaving out what .dockerignore names;
- `RUN` in the build stage runs as written (the real release build, in the clean copy);
- `COPY --from=STAGE` copies between the stand-in roots;
- `RUN` in the runtime stage is printed, not run: it changes the system's users;
- `ENV`, `USER`, `ENTRYPOINT`, `CMD` start the server from the runtime root as that user
  (when run as root), with the `-e` variables of the README's `docker run` line, on a free
  loopback port;
- `HEALTHCHECK CMD` must then pass, and must fail once the server has stopped.

Usage: python3 scripts/dockerfile_steps.py [Dockerfile]   (exit 0 when every step passed)
"""

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_docker_env():
    """The `-e NAME=VALUE` pairs of the README's `docker run` line, as a user copies it."""
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("docker run "):
            words = shlex.split(line)
            return dict(w.split("=", 1) for prev, w in zip(words, words[1:]) if prev == "-e")
    sys.exit("README.md has no `docker run` line")


def instructions(path):
    """(instruction, argument text) pairs, continuation lines joined, comments dropped."""
    out, pending = [], ""
    for raw in Path(path).read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def exec_form(text):
    """A JSON exec form (["a", "b"]) or a shell form."""
    text = text.strip()
    if text.startswith("["):
        return json.loads(text)
    return ["/bin/sh", "-c", text]


def copy_context(dest):
    """The build context as `docker build .` sends it: the repo minus .dockerignore."""
    ignored = {
        p.strip()
        for p in (ROOT / ".dockerignore").read_text().splitlines()
        if p.strip() and not p.startswith("#")
    }

    def skip(directory, names):
        rel = Path(directory).relative_to(ROOT)
        return [n for n in names if n in ignored or str(rel / n) in ignored]

    shutil.copytree(ROOT, dest, ignore=skip, symlinks=True, dirs_exist_ok=True)


def inside(root, path):
    return root / str(path).lstrip("/")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    dockerfile = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "Dockerfile")
    work = Path(tempfile.mkdtemp(prefix="dockerfile-steps-"))
    # The runtime user must reach the binary inside it.
    work.chmod(0o755)
    stages, root, cwd, env, user = {}, None, None, {}, None
    entrypoint, cmd, health = [], [], None
    try:
        for word, arg in instructions(dockerfile):
            print(f"--> {word} {arg}", flush=True)
            if word == "FROM":
                name = arg.split()[-1] if " AS " in arg.upper() else str(len(stages))
                root = work / name
                root.mkdir()
                stages[name] = root
                cwd, env, user = root, {}, None
            elif word == "WORKDIR":
                cwd = inside(root, arg)
                cwd.mkdir(parents=True, exist_ok=True)
            elif word == "COPY" and arg.startswith("--from="):
                frm, src, dst = arg.split()
                src = inside(stages[frm.split("=", 1)[1]], src)
                dst = inside(root, dst)
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
            elif word == "COPY":
                if arg != ". .":
                    sys.exit(f"unsupported COPY {arg}: teach {__file__} about it")
                copy_context(cwd)
            elif word == "RUN" and root.name == "runtime":
                print("    (not run here: it would change this machine's users)")
            elif word == "RUN":
                subprocess.run(exec_form(arg), cwd=cwd, check=True,
                               env={k: v for k, v in os.environ.items()
                                    if k != "CARGO_TARGET_DIR"} | env)
            elif word == "ENV":
                for pair in shlex.split(arg):
                    k, _, v = pair.partition("=")
                    env[k] = v
            elif word == "USER":
                user = int(arg)
            elif word == "ENTRYPOINT":
                entrypoint = exec_form(arg)
            elif word == "CMD":
                cmd = exec_form(arg)
            elif word == "HEALTHCHECK":
                health = exec_form(arg[arg.index("CMD") + 3:])
            elif word != "EXPOSE":
                sys.exit(f"unsupported instruction {word}: teach {__file__} about it")
        run_image(root, env, user, entrypoint + cmd, health)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("dockerfile steps: all passed")


def run_image(root, env, user, argv, health):
    """Starts the image's command from its stand-in root and checks the health check."""
    port = free_port()
    run_env = {
        "PATH": f"{inside(root, '/usr/local/bin')}:/usr/bin:/bin",
        **env,
        # Tests stay on loopback; everything else is as the image and the README set it.
        **readme_docker_env(),
        "TRUIDENTIDAD_MOCK_BIND": "127.0.0.1",
        "TRUIDENTIDAD_MOCK_PORT": str(port),
    }
    token = run_env.get("TRUIDENTIDAD_MOCK_ADMIN_TOKEN")
    if not token:
        sys.exit("the README's docker run line sets no TRUIDENTIDAD_MOCK_ADMIN_TOKEN")
    drop = []
    if user is not None and os.geteuid() == 0:
        drop = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--"]
    argv = [shutil.which(argv[0], path=run_env["PATH"]) or argv[0], *argv[1:]]
    print(f"--> start {' '.join(drop + argv)} (port {port})", flush=True)
    server = subprocess.Popen(drop + argv, env=run_env, cwd="/",
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline().strip()
        if line != f"listening on http://127.0.0.1:{port}":
            sys.exit(f"unexpected first line from the image's command: {line!r}")
        if drop:
            uid = Path(f"/proc/{server.pid}/status").read_text().split("Uid:")[1].split()[0]
            if int(uid) != user:
                sys.exit(f"the server runs as uid {uid}, not {user}")
        check = subprocess.run(health, env=run_env, timeout=10)
        if check.returncode != 0:
            sys.exit("HEALTHCHECK failed against the running server")
        req = urllib.request.Request(f"http://127.0.0.1:{port}/_mock/metrics",
                                     headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            if b"truidentidad_mock_requests_total" not in r.read():
                sys.exit("GET /_mock/metrics has no request counter")
    finally:
        server.terminate()
        server.wait(timeout=10)
    check = subprocess.run(health, env=run_env, timeout=10, stderr=subprocess.DEVNULL)
    if check.returncode == 0:
        sys.exit("HEALTHCHECK passed with the server stopped")
    print("--> HEALTHCHECK passes while serving and fails once stopped", flush=True)


if __name__ == "__main__":
    main()
