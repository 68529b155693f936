"""A command run on a real pseudo-terminal, read back as a person would see it.

The child gets a pty of a fixed size as its stdin, stdout and stderr (so it believes it talks
to a terminal), and everything it writes goes through pyte, a VT100 emulator, so a test reads
the screen (cursor moves, erased lines and colours applied) rather than raw escape codes. A
frame of the screen is kept every `every` seconds while output arrives.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import termios
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pyte


@dataclass
class TerminalRun:
    exit_code: int
    frames: list[str]  # the screen, as text, while the command ran
    final: str  # the screen when it had exited
    raw: bytes


def run_in_terminal(argv: Sequence[str], *, env: Mapping[str, str], cwd: str | None = None,
                    columns: int = 160, lines: int = 400, every: float = 0.5,
                    timeout: float = 900.0) -> TerminalRun:
    screen = pyte.Screen(columns, lines)
    stream = pyte.ByteStream(screen)
    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal of the given size, then the command
        fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        if cwd:
            os.chdir(cwd)
        os.execvpe(argv[0], list(argv), {**env, "TERM": "xterm-256color",
                                          "COLUMNS": str(columns), "LINES": str(lines)})
    raw, frames, last, started = bytearray(), [], 0.0, time.monotonic()
    try:
        while time.monotonic() - started < timeout:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    data = os.read(fd, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                raw += data
                stream.feed(data)
            now = time.monotonic()
            if now - last >= every:
                frames.append(_text(screen))
                last = now
        else:
            os.kill(pid, 9)
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return TerminalRun(os.waitstatus_to_exitcode(status), frames, _text(screen), bytes(raw))


def _text(screen: pyte.Screen) -> str:
    return "\n".join(line.rstrip() for line in screen.display).rstrip()
