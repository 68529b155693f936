"""The console script leaves as soon as a command is done, and as a normal exit would."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from pipelines.settings import REPO_ROOT


def test_a_prompt_exit_keeps_the_code_the_output_the_threads_and_the_atexit_handlers(
        tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import atexit, threading, time
        from pathlib import Path
        from pipelines.cli.exit import run_and_exit

        out = Path({str(tmp_path)!r})

        def main():
            atexit.register(lambda: (out / "atexit").write_text("ran"))
            def late():
                time.sleep(0.3)
                (out / "thread").write_text("done")
            threading.Thread(target=late).start()
            print("the summary's last line")
            return 3

        run_and_exit(main)
        (out / "after").write_text("never: run_and_exit does not return")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=60, check=False)
    assert done.returncode == 3, done.stderr
    assert done.stdout == "the summary's last line\n"
    assert (tmp_path / "thread").read_text() == "done"  # a non-daemon thread was waited for
    assert (tmp_path / "atexit").read_text() == "ran"
    assert not (tmp_path / "after").exists()


def test_the_module_entry_point_exits_with_the_commands_code(tmp_path: Path) -> None:
    env_dir = tmp_path / "data"
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "--version"],
                          capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
                          check=False)
    assert done.returncode == 0 and done.stdout.strip()  # argparse's own exit still works
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "rollback"],
                          capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
                          check=False, env={**_env(), "KK_DATA_DIR": str(env_dir)})
    assert done.returncode != 0 and "kommunkvalitet" in done.stderr + done.stdout


def _env() -> dict[str, str]:
    import os
    return {k: v for k, v in os.environ.items() if k != "KK_DATA_DIR"}
