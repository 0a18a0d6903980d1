"""Real remote stores for the tests: moto's S3 server and Debian's OpenSSH server.

Each is started on a free loopback port under a temporary directory and stopped afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            raise RuntimeError(f"server exited with {proc.returncode}: {out}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@dataclass
class RemoteServer:
    kind: str
    proc: subprocess.Popen
    storage: dict
    root: str = ""

    def stop(self) -> None:
        _stop(self.proc)

    def read(self, name: str) -> bytes:
        """The stored object's bytes, read straight from the server (not through the app)."""
        if self.kind == "s3":
            import boto3

            opts = self.storage["OPTIONS"]
            client = boto3.client(
                "s3",
                endpoint_url=opts["endpoint_url"],
                aws_access_key_id=opts["access_key"],
                aws_secret_access_key=opts["secret_key"],
                region_name=opts["region_name"],
            )
            return client.get_object(Bucket=opts["bucket_name"], Key=name)["Body"].read()
        return (Path(self.root) / name).read_bytes()


def start_s3(tmp_path: Path) -> RemoteServer:
    import boto3

    port = free_port()
    moto = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "MOTO_CALL_RESET_API": "false"},
    )
    _wait_for_port(port, proc)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:  # the port opens a moment before the app answers
        try:
            urllib.request.urlopen(endpoint, timeout=2).read()
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    options = {
        "bucket_name": "recovery-backups",
        "endpoint_url": endpoint,
        "access_key": "testing",
        "secret_key": "testing",
        "region_name": "us-east-1",
        "location": "backups",
        "file_overwrite": False,
    }
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    ).create_bucket(Bucket=options["bucket_name"])
    storage = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
    server = RemoteServer("s3", proc, storage)
    # Object keys are under the storage's location.
    server.read = _prefixed(server.read, "backups/")  # type: ignore[method-assign]
    return server


def _prefixed(read, prefix):
    return lambda name: read(prefix + name)


def start_sftp(tmp_path: Path) -> RemoteServer:
    if not Path(SSHD).exists() or not shutil.which("ssh-keygen"):
        pytest.skip("needs Debian's openssh-server (scripts/testservers.py installs it)")
    home = tmp_path / "sshd"
    home.mkdir()
    for name in ("host_key", "client_key"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(home / name)], check=True
        )
    (home / "authorized_keys").write_text((home / "client_key.pub").read_text())
    os.chmod(home / "authorized_keys", 0o600)
    root = home / "store"
    root.mkdir()
    port = free_port()
    config = home / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {home / 'host_key'}",
                f"AuthorizedKeysFile {home / 'authorized_keys'}",
                f"PidFile {home / 'sshd.pid'}",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "PermitRootLogin prohibit-password",
                "StrictModes no",
                "UsePAM no",
                "Subsystem sftp internal-sftp",
                "",
            ]
        )
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
    proc = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _wait_for_port(port, proc)
    host_pub = (home / "host_key.pub").read_text().split()
    known_hosts = home / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
    import getpass

    storage = {
        "BACKEND": "storages.backends.sftpstorage.SFTPStorage",
        "OPTIONS": {
            "host": "127.0.0.1",
            "root_path": str(root),
            "known_host_file": str(known_hosts),
            "params": {
                "port": port,
                "username": getpass.getuser(),
                "key_filename": str(home / "client_key"),
                "look_for_keys": False,
                "allow_agent": False,
                "timeout": 5,
                "banner_timeout": 5,
            },
        },
    }
    return RemoteServer("sftp", proc, storage, root=str(root))
