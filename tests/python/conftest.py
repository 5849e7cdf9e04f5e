"""Fixtures for the Python client suite: the slt binary and demo reports.

The binary is the release build that `cargo test --release` leaves behind:
`$SLT_BIN`, else `$CARGO_TARGET_DIR/release/slt`, else `target/release/slt`
in the repository.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _binary() -> Path:
    candidates = []
    if os.environ.get("SLT_BIN"):
        candidates.append(Path(os.environ["SLT_BIN"]))
    if os.environ.get("CARGO_TARGET_DIR"):
        candidates.append(Path(os.environ["CARGO_TARGET_DIR"]) / "release" / "slt")
    candidates.append(REPO / "target" / "release" / "slt")
    for c in candidates:
        if c.is_file():
            return c
    raise RuntimeError(
        "no slt release binary (run `cargo build --release`); looked at "
        + ", ".join(str(c) for c in candidates)
    )


@pytest.fixture(scope="session")
def slt():
    """Runs the slt binary; returns the CompletedProcess."""
    binary = _binary()

    def run(*args, check=True):
        done = subprocess.run(
            [str(binary), *map(str, args)], capture_output=True, text=True
        )
        if check and done.returncode != 0:
            raise AssertionError(f"slt {' '.join(map(str, args))}: {done.stderr}")
        return done

    return run


@pytest.fixture(scope="session")
def report(slt, tmp_path_factory) -> Path:
    """`slt report` on the bundled demo export: one file per output."""
    out = tmp_path_factory.mktemp("reports") / "demo"
    slt("report", "--out", out, "--quiet")
    return out


@pytest.fixture(scope="session")
def partitioned(slt, tmp_path_factory) -> Path:
    """The same report with `--partition-by period`."""
    out = tmp_path_factory.mktemp("reports") / "parted"
    slt("report", "--out", out, "--quiet", "--partition-by", "period")
    return out


@pytest.fixture(scope="session")
def manifest(report) -> dict:
    return json.loads((report / "manifest.json").read_text())


SHARDS = 3


@pytest.fixture(scope="session")
def sharded(slt, manifest, tmp_path_factory):
    """The demo export measured in SHARDS shards (`slt report --shard I/N`,
    as of the demo report's instant) and merged (`slt merge`): returns the
    shard directories and the merged report."""
    root = tmp_path_factory.mktemp("sharded")
    shards = []
    for i in range(1, SHARDS + 1):
        out = root / f"shard-{i}"
        slt("report", "--out", out, "--quiet", "--as-of", manifest["as_of"], "--shard", f"{i}/{SHARDS}")
        shards.append(out)
    merged = root / "merged"
    slt("merge", "--out", merged, "--quiet", *shards)
    return shards, merged
