"""Every setting the platform reads, resolved in one place.

Paths are made absolute once, here, because dbt runs with `dbt_project/` as its working
directory and Dagster may run steps elsewhere: a relative `./data` would mean different folders
to different processes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "pipelines" / "config" / "default.yaml"

SOURCES = ("live", "sample")


@dataclass(frozen=True)
class Layout:
    """Every path under the data dir, written down once and handed to whoever needs it.

    The event log, the publisher and dbt get their paths from here as arguments (dbt as vars),
    never from an environment variable set for a later reader to find.
    """

    data_dir: Path

    @property
    def events_dir(self) -> Path:
        return self.data_dir / "events"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.data_dir / "published"

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def assessment_landing_dir(self) -> Path:
        """Where analysts drop Kommunkompassen files; the sensor watches it."""
        return self.landing_dir / "assessments"

    @property
    def rejected_dir(self) -> Path:
        """Files that could not be read at all, each with a `.reason.txt` beside it."""
        return self.landing_dir / "rejected"

    @property
    def initiative_landing_dir(self) -> Path:
        """Where analysts drop their register of improvement initiatives (docs/initiatives.md)."""
        return self.landing_dir / "initiatives"

    @property
    def initiative_archive_dir(self) -> Path:
        """Imported initiative files under their sha256, each with its quarantine report."""
        return self.landing_dir / "archive" / "initiatives"

    @property
    def assessment_archive_dir(self) -> Path:
        """Imported files under their sha256, each with its quarantine report."""
        return self.landing_dir / "archive" / "assessments"

    @property
    def dbt_target_dir(self) -> Path:
        # One fixed target folder per data dir keeps dbt's partial parsing warm between runs;
        # the warehouse pool guarantees a single dbt process uses it at a time.
        return self.data_dir / "dbt" / "target"

    @property
    def build_vars_file(self) -> Path:
        """The per-build dbt vars (pipelines.warehouse.build_vars), beside dbt's target folder."""
        return self.data_dir / "dbt" / "build_vars.json"

    @property
    def gx_passed_file(self) -> Path:
        """Per mart, the dbt invocation on whose warehouse its GX suite last passed
        (pipelines.checks.changed_kpis)."""
        return self.data_dir / "checks" / "gx_passed.json"

    @property
    def default_dagster_home(self) -> Path:
        return self.data_dir / "dagster"

    def dbt_path_vars(self) -> dict[str, str]:
        """The paths dbt's profile and sources read (`var('warehouse_path')`, `var('events_dir')`)."""
        return {"warehouse_path": str(self.warehouse_path), "events_dir": str(self.events_dir)}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    source: str = "live"
    kolada_base_url: str = "https://api.kolada.se/v3"
    kolada_max_rps: float = 5.0
    scb_base_url: str = "https://statistikdatabasen.scb.se/api/v2"
    config_path: Path = DEFAULT_CONFIG
    publish_keep: int = 10
    # A secret (it may carry a token): never in a repr, a log line or an error message.
    alert_webhook_url: str | None = field(default=None, repr=False)
    ui_url: str = "http://127.0.0.1:3000"
    freshness_grace_days: int = 14

    dagster_home_override: Path | None = None  # DAGSTER_HOME, when set

    @property
    def layout(self) -> Layout:
        return Layout(self.data_dir)

    @property
    def dagster_home(self) -> Path:
        return (self.dagster_home_override or self.layout.default_dagster_home).resolve()


class SettingsError(ValueError):
    """A setting has a value the platform cannot use; the message names the variable."""


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is not a number") from exc
    if value <= 0:
        raise SettingsError(f"{name}={raw!r} must be greater than 0")
    return value


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from exc
    if value < 1:
        raise SettingsError(f"{name}={raw!r} must be at least 1")
    return value


def _base_url(env: dict[str, str], name: str, default: str) -> str:
    from pipelines.base_url import InvalidBaseUrl, check_base_url

    try:
        return check_base_url(env.get(name) or default, name)
    except InvalidBaseUrl as exc:
        raise SettingsError(str(exc)) from None


def check_data_dir(data_dir: Path) -> None:
    """KK_DATA_DIR must be a folder the platform can write: said in one line, before a run.

    Checked by creating it (when missing) and a probe file in it, because permission bits
    alone do not tell (a read-only mount, an ACL, root squash on NFS).
    """
    if "'" in str(data_dir) or any(ord(c) < 32 for c in str(data_dir)):
        # the event-log globs and dbt's sources name files inside it in SQL string literals
        raise SettingsError(f"KK_DATA_DIR={str(data_dir)!r} must not contain a quote (') or "
                            "a control character; choose a plainer path")
    if data_dir.exists() and not data_dir.is_dir():
        raise SettingsError(f"KK_DATA_DIR={data_dir} is a file, not a folder; point it at a "
                            "folder (it is created when missing)")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / f".kk-write-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SettingsError(f"KK_DATA_DIR={data_dir} is not writable ({reason}); choose a "
                            "folder this user can write, or fix its permissions") from None


def load_settings(env: dict[str, str] | None = None, **overrides: object) -> Settings:
    """Read settings from the environment (or `env`), then apply explicit overrides."""
    env = dict(os.environ if env is None else env)
    source = overrides.pop("source", None) or env.get("KK_SOURCE") or "live"
    if source not in SOURCES:
        raise SettingsError(f"KK_SOURCE={source!r}: expected one of {', '.join(SOURCES)}")
    data_dir = Path(str(overrides.pop("data_dir", None) or env.get("KK_DATA_DIR") or "./data"))
    config_path = Path(env.get("KK_CONFIG") or DEFAULT_CONFIG)
    settings = Settings(
        data_dir=data_dir.expanduser().resolve(),
        source=str(source),
        kolada_base_url=_base_url(env, "KOLADA_BASE_URL", Settings.kolada_base_url),
        kolada_max_rps=_float(env, "KOLADA_MAX_RPS", Settings.kolada_max_rps),
        scb_base_url=_base_url(env, "SCB_BASE_URL", Settings.scb_base_url),
        config_path=config_path.expanduser().resolve(),
        publish_keep=_int(env, "KK_PUBLISH_KEEP", Settings.publish_keep),
        alert_webhook_url=env.get("KK_ALERT_WEBHOOK_URL") or None,
        ui_url=(env.get("KK_UI_URL") or Settings.ui_url).rstrip("/"),
        freshness_grace_days=_int(env, "KK_FRESHNESS_GRACE_DAYS", Settings.freshness_grace_days),
        dagster_home_override=Path(env["DAGSTER_HOME"]) if env.get("DAGSTER_HOME") else None,
    )
    if overrides:
        from dataclasses import replace

        settings = replace(settings, **overrides)  # type: ignore[arg-type]
    return settings
