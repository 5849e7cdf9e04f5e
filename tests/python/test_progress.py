"""On a terminal, `slt report` draws a progress bar per stage; on a dumb
terminal or a pipe it writes plain lines. The terminal is a real
pseudo-terminal (stdlib `pty`), as an analyst running slt by hand has."""

import os
import pty
import subprocess

from conftest import _binary

STAGES = ["read", "validate", "measure", "entitlements", "aggregate", "write"]


def run_on_terminal(args, env_extra):
    """Runs slt with standard error on a pseudo-terminal; returns what the
    terminal received and the exit code."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", **env_extra}
    proc = subprocess.Popen(
        [str(_binary()), *map(str, args)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    received = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        received += chunk
    os.close(master)
    return received.decode("utf-8", "replace"), proc.wait(timeout=120)


def test_a_terminal_gets_a_progress_bar_per_stage(tmp_path):
    screen, code = run_on_terminal(["report", "--out", tmp_path / "out"], {})
    assert code == 0, screen
    assert "\x1b[" in screen, "drawn with terminal control codes"
    for stage in STAGES:
        assert stage in screen
        assert f"slt: {stage}: " not in screen, "bars, not log lines"
    # each stage ends on its summary line, and the run on its result
    assert "cases as of " in screen
    assert " cases measured (met " in screen


def test_a_dumb_terminal_gets_plain_lines(tmp_path):
    screen, code = run_on_terminal(["report", "--out", tmp_path / "out"], {"TERM": "dumb"})
    assert code == 0, screen
    assert "\x1b[" not in screen
    lines = [l for l in screen.replace("\r\n", "\n").split("\n") if l]
    assert [l.split(":")[1].strip() for l in lines[: len(STAGES)]] == STAGES


def test_quiet_on_a_terminal_draws_nothing(tmp_path):
    screen, code = run_on_terminal(["report", "--out", tmp_path / "out", "--quiet"], {})
    assert code == 0
    assert screen == ""
