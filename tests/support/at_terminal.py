"""Runs a command on a pseudo-terminal, as a person at a shell would: it sees a terminal on
stdin and stdout, and a Ctrl-C typed is the terminal's SIGINT to its process group.

When the output first shows PROMPT, KEYS are typed (`^C` stands for Ctrl-C, `\\n` for Enter).
Prints one JSON object: everything the terminal showed, the exit code (130 for a SIGINT
exit, `null` when it did not end within TIMEOUT seconds, after which it is killed), and the
seconds from typing the keys to the end.

Usage: python at_terminal.py PROMPT KEYS TIMEOUT -- COMMAND [ARG…]
"""

import json
import os
import pty
import select
import signal
import sys
import time


def drain(terminal: int) -> bytes:
    """What is left to read once the command ended."""
    rest = b""
    while select.select([terminal], [], [], 0.2)[0]:
        try:
            chunk = os.read(terminal, 65536)
        except OSError:
            break
        if not chunk:
            break
        rest += chunk
    return rest


def main() -> None:
    prompt, keys, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
    command = sys.argv[sys.argv.index("--") + 1 :]
    keys = keys.replace("^C", "\x03").replace("\\n", "\r")
    pid, terminal = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    shown, typed_at, code = b"", None, None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([terminal], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(terminal, 65536)
            except OSError:  # the other side closed: the command ended
                chunk = b""
            if not chunk:
                break
            shown += chunk
        if typed_at is None and prompt.encode() in shown:
            os.write(terminal, keys.encode())
            typed_at = time.monotonic()
        finished, status = os.waitpid(pid, os.WNOHANG)
        if finished:
            code = os.waitstatus_to_exitcode(status)
            pid = None
            shown += drain(terminal)
            break
    while pid is not None:  # the terminal closed, or time ran out: wait for the exit
        finished, status = os.waitpid(pid, os.WNOHANG)
        if finished:
            code = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() >= deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            break
        time.sleep(0.05)
    ended = time.monotonic()
    print(json.dumps({
        "shown": shown.decode("utf-8", "replace"),
        "code": code,
        "seconds_after_keys": None if typed_at is None else round(ended - typed_at, 3),
    }))


if __name__ == "__main__":
    main()
