""".ci/slurm-cluster.sh on a machine that never ran it: its configuration step on empty folders (no root, no
packages, no daemons), and its failures, which name the command and show the output it otherwise keeps quiet.

CI's cluster once failed on every fresh machine: `config_sum` read configuration files that did not exist yet,
and `set -e` ended `up` without a word. These tests start from nothing each time, so that hole stays shut."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest
from conftest import REPO

pytestmark = pytest.mark.unit

SCRIPT = REPO / ".ci/slurm-cluster.sh"


def cluster_script(
    *args: str, etc: Path, state: Path, path_prefix: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SLKD_CI_SLURM_ETC": str(etc), "SLKD_CI_STATE": str(state)}
    if path_prefix is not None:
        env["PATH"] = f"{path_prefix}:{env['PATH']}"
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=60)


def test_script_parses() -> None:
    proc = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_config_on_a_fresh_machine_writes_the_cluster(tmp_path: Path) -> None:
    etc, state = tmp_path / "etc/slurm", tmp_path / "state"
    proc = cluster_script("config", etc=etc, state=state)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("changed: ")

    host = socket.gethostname().split(".")[0]
    slurm_conf = (etc / "slurm.conf").read_text()
    # at least 4 CPUs (4 one-CPU jobs share a GPU's 4 shards), 2 GPUs cut into 4 shards each
    cpus = max(4, os.cpu_count() or 1)
    assert f"NodeName={host} CPUs={cpus} RealMemory=" in slurm_conf and " Gres=gpu:2,shard:8 " in slurm_conf
    assert "GresTypes=gpu,shard\n" in slurm_conf and "SlurmdParameters=config_overrides\n" in slurm_conf
    assert "AccountingStorageTRES=gres/gpu,gres/shard\n" in slurm_conf
    assert f"PartitionName=gpu Nodes={host} " in slurm_conf
    gres = [line for line in (etc / "gres.conf").read_text().splitlines() if not line.startswith("#")]
    assert gres == [f"NodeName={host} Name=gpu File={state}/gpu[0-1]",
                    f"NodeName={host} Name=shard Count=8 File={state}/gpu[0-1]"]
    password = (state / "db-password").read_text().strip()
    assert len(password) >= 16
    assert f"StoragePass={password}\n" in (etc / "slurmdbd.conf").read_text()
    assert (etc / "slurmdbd.conf").stat().st_mode & 0o777 == 0o600
    # two devices with distinct numbers: SLURM tells GPUs apart by them
    assert [os.readlink(state / f"gpu{i}") for i in (0, 1)] == ["/dev/null", "/dev/zero"]


def test_config_is_idempotent_and_sees_a_missing_file(tmp_path: Path) -> None:
    etc, state = tmp_path / "etc", tmp_path / "state"
    assert cluster_script("config", etc=etc, state=state).stdout.startswith("changed: ")
    written = {f.name: f.read_text() for f in etc.iterdir()}
    again = cluster_script("config", etc=etc, state=state)
    assert again.returncode == 0 and again.stdout.startswith("unchanged: "), again.stderr
    assert {f.name: f.read_text() for f in etc.iterdir()} == written  # the same password, the same files

    (etc / "gres.conf").unlink()
    proc = cluster_script("config", etc=etc, state=state)
    assert proc.returncode == 0 and proc.stdout.startswith("changed: "), proc.stderr
    assert (etc / "gres.conf").read_text() == written["gres.conf"]


def test_a_failed_step_names_the_command_and_where(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")  # a folder can't be made under a file, not even by root
    proc = cluster_script("config", etc=tmp_path / "a-file/etc", state=tmp_path / "state")
    assert proc.returncode != 0
    assert "Not a directory" in proc.stderr  # the command's own words
    failed = [line for line in proc.stderr.splitlines() if line.startswith("slurm-cluster: failed (exit ")]
    assert len(failed) == 1, proc.stderr
    assert 'mkdir -p "$ETC" "$STATE" <- write_config (line ' in failed[0]
    assert not (tmp_path / "state/db-password").exists()  # it stopped at the first failure


def test_quiet_output_is_shown_when_its_command_fails(tmp_path: Path) -> None:
    """`up` on a machine without the packages, whose apt-get fails: the output it hides on success is printed."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    (stubs / "dpkg-query").write_text("#!/bin/sh\nexit 1\n")  # nothing is installed
    (stubs / "apt-get").write_text('#!/bin/sh\necho "E: the stub registry is unreachable" >&2\nexit 100\n')
    for stub in stubs.iterdir():
        stub.chmod(0o755)
    proc = cluster_script("up", etc=tmp_path / "etc", state=tmp_path / "state", path_prefix=stubs)
    assert proc.returncode == 100, proc.stderr
    lines = proc.stderr.splitlines()
    failed = next(i for i, line in enumerate(lines)
                  if line.startswith("slurm-cluster: failed (exit 100): apt-get update"))
    assert "<- install_packages (line " in lines[failed]
    assert lines[failed + 1] == "    E: the stub registry is unreachable"
    assert not (tmp_path / "etc").exists()  # nothing past the failed step ran
