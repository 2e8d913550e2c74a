"""Every `ROBOCORE_*` setting in one typed object, read from the environment and validated once.

`get_settings()` is the only reader of these variables. It keeps the last `Settings` it built
with the `ROBOCORE_*` items it was built from, and builds a new one only when those items change:
one validation per process in service, while tests that `monkeypatch.setenv` (or a parent that
hands its variables to pool processes) are seen at the next call, with no cache to reset.
The per-secret `ROBOCORE_SECRET_<NAME>_<FIELD>` variables are secret values, not settings: the
environment secret provider reads them (`robocore.secrets`).

The variables are read as pydantic-settings would read them with this model's configuration
(names in any case, an empty variable counts as unset, an argument wins over its variable), by
a plain pydantic model: importing pydantic-settings cost every `robo` command about 15 ms.
Modules imported by `robo --help` still import this module lazily.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, get_args

from annotated_types import Ge, Gt, MinLen
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from robocore.errors import SettingsError

PREFIX = "ROBOCORE_"
_SECRET_PREFIX = "ROBOCORE_SECRET_"


class Settings(BaseModel):
    """Robocore's settings; the field `home` is read from ROBOCORE_HOME, and so on."""

    model_config = ConfigDict(frozen=True, extra="ignore", validate_default=True)

    home: Path | None = Field(default=None, description=(
        "Data folder: SQLite store, run folders, secrets.yaml; unset: the user data folder "
        "(`~/.local/share/robocore` on Linux)."))
    database_url: str | None = Field(default=None, description=(
        "SQLAlchemy URL of the store, e.g. `postgresql+psycopg://user@host/db`; unset: SQLite "
        "`robocore.db` in the data folder."))
    robots: Path = Field(default=Path("robots"), description="Folder of the robots (one sub-folder per robot).")
    schedules: Path = Field(default=Path("schedules"), description="Folder of the schedule files (`*.yaml`).")
    secrets_file: Path | None = Field(default=None, description=(
        "Secrets file (`{name: {field: value}}`, owner-only); unset: `secrets.yaml` in the data folder."))
    executor: str = Field(default="local", description=(
        "Where launched runs go: `local`, `celery`, or the name of a plugin's executor."))
    local_workers: int = Field(default=2, ge=1, description="Processes of the local executor's pool.")
    busy_retry_seconds: float = Field(default=5.0, gt=0, description=(
        "Seconds before a worker asks again for a run whose lease another process holds."))
    broker_url: str = Field(default="redis://127.0.0.1:6379/0", description=(
        "Celery broker: Redis (`redis://...`) or RabbitMQ (`amqp://guest:guest@127.0.0.1:5672//`)."))
    default_queue: str = Field(default="robocore", min_length=1, description=(
        "Celery queue of the robots that name none (`queue:` in robot.yaml)."))
    visibility_timeout: float = Field(default=300.0, gt=0, description=(
        "Redis broker: seconds before a run nobody acknowledged is delivered again."))
    plugins: tuple[str, ...] = Field(default=(), description=(
        "Comma-separated names of the plugins to load (e.g. `flow,files`); unset: all installed."))
    chromium: Path | None = Field(default=None, description=(
        "Chromium executable; unset: `/usr/bin/chromium` when present, else Playwright's own."))
    upload_max_mb: float = Field(default=20.0, gt=0, description=(
        "Most megabytes one launch may upload, all files together."))
    auth_failures_per_minute: int = Field(default=10, ge=1, description=(
        "Failed API authentications allowed per minute from one address before 429."))
    allowed_dirs: tuple[Path, ...] = Field(default=(), description=(
        "Server folders that robots may read and write besides their own folder and the run's folder, "
        "separated by `:` (`;` on Windows); API file inputs may name files inside them."))
    json_max_kb: int = Field(default=256, ge=1, description=(
        "Most kilobytes of a JSON or URL-encoded request body, counted while it is received, before authentication."))
    input_max_chars: int = Field(default=10_000, ge=1, description=(
        "Most characters of one text input of a run (API, CLI, schedules)."))
    forwarded_allow_ips: tuple[str, ...] = Field(default=(), description=(
        "Comma-separated addresses of the reverse proxies whose `X-Forwarded-For`/`-Proto` headers are "
        "trusted (`*`: any); unset: none, the connection's address is the client's."))
    broker_timeout: float = Field(default=10.0, gt=0, description=(
        "Seconds to connect to the Celery broker or to publish one run before the launch fails."))
    submit_timeout: float = Field(default=20.0, gt=0, description=(
        "Seconds an executor may take to accept a run before the launch is recorded failed."))
    database_timeout: float = Field(default=10.0, gt=0, description=(
        "Seconds to open a connection to the store's database."))
    statement_timeout: float = Field(default=60.0, gt=0, description=(
        "PostgreSQL: seconds one SQL statement may run (SQLite: seconds to wait for a lock)."))
    sweep_seconds: float = Field(default=30.0, gt=0, description=(
        "Seconds between the scheduling leader's sweeps for fires without a run and runs stuck queued."))
    queued_grace_seconds: float = Field(default=120.0, gt=0, description=(
        "Seconds a run may stay queued before the sweep hands it to the executor again (or fails it)."))
    storage: str = Field(default="local", min_length=1, description=(
        "Where run files (uploads, outputs, evidence, logs) are kept for every process: `local` (the data "
        "folder), `database` (the store), or `s3://bucket/prefix` (an S3-compatible bucket)."))
    s3_endpoint_url: str | None = Field(default=None, description=(
        "Endpoint of the S3-compatible service (e.g. `https://s3.example.fr`); unset: AWS. Credentials come "
        "from the usual `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` variables."))
    language: Literal["fr", "en"] = Field(default="fr", description=(
        "Language of the CLI, the pages and the API's messages when the request names none: `fr` or `en`."))
    service_name: str = Field(default="Robocore", min_length=1, max_length=80, description=(
        "Name of the service shown in the pages' header, footer and titles (e.g. `Robocore — Labo Occitanie`)."))
    theme: Literal["neutral", "dsfr"] = Field(default="neutral", description=(
        "Look of the pages: `neutral`, or `dsfr` (the State design system, reserved to State services: "
        "set it only when the deployment is one)."))
    public_url: str | None = Field(default=None, description=(
        "Address users reach the server at (e.g. `https://robocore.example.fr`): OpenID Connect's return "
        "address, and cookies marked Secure when it is https; unset: taken from each request."))
    oidc_issuer: str | None = Field(default=None, description=(
        "OpenID Connect provider's issuer URL (e.g. ProConnect's); unset: no sign-in page, API tokens only. "
        "The client secret is the secret `oidc` field `client_secret` (secrets file or "
        "`ROBOCORE_SECRET_OIDC_CLIENT_SECRET`)."))
    oidc_client_id: str | None = Field(default=None, description="Client id registered with the OIDC provider.")
    oidc_timeout: float = Field(default=10.0, gt=0, le=120, description=(
        "Seconds each call to the OIDC provider may take (discovery, keys, token, userinfo)."))
    session_hours: float = Field(default=8.0, gt=0, le=720, description=(
        "Hours a sign-in lasts; then the person signs in again (a working day by default)."))
    oidc_scopes: str = Field(default="openid email profile", min_length=1, description=(
        "Scopes asked of the OIDC provider, separated by spaces."))
    oidc_roles_claim: str = Field(default="roles", min_length=1, description=(
        "Claim of the ID token or userinfo holding the person's Robocore roles."))
    oidc_groups_claim: str = Field(default="groups", min_length=1, description=(
        "Claim holding the person's agent groups (robots granted to them)."))
    annual_hours: float = Field(default=1607.0, gt=0, description=(
        "Annual working hours of one full-time equivalent (French civil service legal time: 1,607 h)."))

    @field_validator("plugins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        """`flow, files,` → ("flow", "files"): names around commas, blanks dropped."""
        if isinstance(value, str):
            return tuple(name.strip() for name in value.split(",") if name.strip())
        return value

    @field_validator("allowed_dirs", mode="before")
    @classmethod
    def _path_list(cls, value: Any) -> Any:
        """`/srv/a:/srv/b` → (Path("/srv/a"), Path("/srv/b")), separated as PATH is (`;` on Windows)."""
        if isinstance(value, str):
            return tuple(Path(part.strip()) for part in value.split(os.pathsep) if part.strip())
        return value

    @field_validator("forwarded_allow_ips", mode="before")
    @classmethod
    def _address_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    def __init__(self, **values: Any) -> None:
        """The fields' ROBOCORE_* variables, under the values given as arguments (as BaseSettings does)."""
        super().__init__(**{**_variables(), **values})


def variable(field: str) -> str:
    """The environment variable of a field: `local_workers` → `ROBOCORE_LOCAL_WORKERS`."""
    return PREFIX + field.upper()


def _variables() -> dict[str, str]:
    """The value of each field's variable, by field name; names in any case, empty values left out."""
    lowered = {name.lower(): value for name, value in os.environ.items()}
    return {field: value for field in Settings.model_fields if (value := lowered.get(variable(field).lower()))}


_cached: tuple[tuple[tuple[str, str], ...], Settings] | None = None


def _environment() -> tuple[tuple[str, str], ...]:
    """The ROBOCORE_* items the settings come from (secret values left out): the cache's key."""
    return tuple(sorted((k, v) for k, v in os.environ.items()
                        if k[:9].upper() == PREFIX and not k.upper().startswith(_SECRET_PREFIX)))


def get_settings() -> Settings:
    """The settings of the current environment; raises SettingsError naming any wrong variable."""
    global _cached
    environment = _environment()
    cached = _cached
    if cached is not None and cached[0] == environment:
        return cached[1]
    try:
        settings = Settings()
    except ValidationError as exc:
        raise _error(exc) from None
    _cached = (environment, settings)
    return settings


def _error(exc: ValidationError) -> SettingsError:
    """Every wrong variable on one line, in our words: `réglage invalide : ROBOCORE_X='abc' : nombre entier attendu`."""
    from robocore.i18n import lazy_gettext as _l
    from robocore.i18n import render, speaking
    from robocore.problems import describe

    lang = speaking()  # the settings, ROBOCORE_LANGUAGE among them, cannot be read
    parts, names = [], []
    for error in exc.errors(include_url=False):
        name = variable(str(error["loc"][0])) if error["loc"] else PREFIX + "*"
        names.append(name)
        value = f"{name}={str(error.get('input'))[:60]!r}"
        parts.append(render(_l("{label}: {text}", label=value, text=describe(error)), lang))
    problems = (" ; " if lang == "fr" else "; ").join(parts)
    return SettingsError(render(_l("invalid setting: {problems}", problems=problems), lang), variables=tuple(names))


def home() -> Path:
    """The data folder (ROBOCORE_HOME, or the user's data directory), created if missing."""
    configured = get_settings().home
    if configured:
        path = configured.expanduser()
    else:
        from platformdirs import user_data_path

        path = user_data_path("robocore", appauthor=False)
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    """ROBOCORE_DATABASE_URL, or the embedded SQLite file in the data folder."""
    return get_settings().database_url or f"sqlite:///{home() / 'robocore.db'}"


def robots_dir() -> Path:
    """ROBOCORE_ROBOTS, or ./robots."""
    return get_settings().robots


def run_dir(run_id: str) -> Path:
    path = home() / "runs" / run_id
    path.mkdir(parents=True, exist_ok=True)
    return path


_TYPES = {int: "integer", float: "number", str: "text", Path: "path"}


def _type_text(name: str) -> str:
    info = Settings.model_fields[name]
    if info.annotation == tuple[str, ...]:
        text = "comma-separated names"
    elif info.annotation == tuple[Path, ...]:
        text = "paths separated by `:`"
    else:  # X or X | None: the type of X (None is the "unset" default)
        kind = next(a for a in get_args(info.annotation) or (info.annotation,) if a is not type(None))
        text = _TYPES.get(kind, getattr(kind, "__name__", str(kind)))
    for rule in info.metadata:
        if isinstance(rule, Ge):
            text += f" ≥ {rule.ge}"
        elif isinstance(rule, Gt):
            text += f" > {rule.gt}"
        elif isinstance(rule, MinLen) and rule.min_length == 1:
            text += ", not empty"
    return text


def _default_text(value: Any) -> str:
    if value is None or value == ():
        return "—"
    return f"`{value:g}`" if isinstance(value, float) else f"`{value}`"


def settings_table_markdown() -> str:
    """The README's table of settings (variable, type, default, description), from the model."""
    rows = ["| variable | type | default | description |", "|---|---|---|---|"]
    for name, info in Settings.model_fields.items():
        rows.append(f"| `{variable(name)}` | {_type_text(name)} | {_default_text(info.default)} "
                    f"| {info.description} |")
    return "\n".join(rows) + "\n"
