"""The `celery` executor: runs sent to a Redis or RabbitMQ broker, executed by `robo worker` processes.

Late acknowledgement and reject-on-worker-lost make the broker redeliver a killed worker's run;
the run's lease in the store (not the broker) makes each item happen exactly once.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

import structlog
from celery import Celery, Task
from celery.signals import setup_logging

from robocore.executors.local import busy_retry_seconds, execute_once, worker_store
from robocore.settings import get_settings
from robocore.store import DATABASE_ERRORS

log = structlog.get_logger("robocore.executors.celery")

TASK = "robocore.execute_run"


def broker_url() -> str:
    """ROBOCORE_BROKER_URL: redis://127.0.0.1:6379/0 (default) or amqp://guest:guest@127.0.0.1:5672//."""
    return get_settings().broker_url


def default_queue() -> str:
    """ROBOCORE_DEFAULT_QUEUE: the queue of robots that name none (default `robocore`)."""
    return get_settings().default_queue


def visibility_timeout() -> float:
    """ROBOCORE_VISIBILITY_TIMEOUT (Redis): seconds before an unacknowledged run is redelivered."""
    return get_settings().visibility_timeout


def broker_timeout() -> float:
    """ROBOCORE_BROKER_TIMEOUT: seconds to connect to the broker or to publish one run."""
    return get_settings().broker_timeout


def publish_retry_policy(timeout: float) -> dict[str, float]:
    """One quick second attempt (a connection the broker dropped), never an unbounded wait.

    Each attempt is bounded by the socket timeouts of `publisher_options`, so a publish takes at most
    about two timeouts plus the short pause between them.
    """
    return {"max_retries": 1, "interval_start": 0, "interval_step": min(0.5, timeout / 4),
            "interval_max": min(0.5, timeout / 4)}


def publisher_options(url: str, timeout: float) -> dict[str, Any]:
    """Celery settings that bound every wait of a publishing process on the broker (Redis and RabbitMQ).

    `broker_connection_timeout` bounds the TCP connect and the AMQP handshake; the transport options
    bound each read and write on an established connection (a broker that accepts and never answers),
    and `max_retries` stops kombu's connection loop from retrying for ever.
    """
    transport: dict[str, Any] = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
    if url.startswith(("redis", "rediss", "sentinel")):
        transport.update(socket_timeout=timeout, socket_connect_timeout=timeout)
    elif url.startswith(("amqp", "pyamqp", "amqps")):
        transport.update(read_timeout=timeout, write_timeout=timeout)
    return {"broker_connection_timeout": timeout, "broker_connection_retry": False,
            "broker_connection_max_retries": 1, "task_publish_retry": True,
            "task_publish_retry_policy": publish_retry_policy(timeout), "transport": transport}


def make_app(url: str | None = None, *, publisher: bool = False) -> Celery:
    """A Celery app for this broker, configured for late acknowledgement and one run at a time.

    Args:
        publisher: the app only sends runs (server, scheduler): every wait on the broker is bounded by
            ROBOCORE_BROKER_TIMEOUT. The worker's own app keeps Celery's reconnecting consumer.
    """
    url = url or broker_url()
    app = Celery("robocore", broker=url, set_as_current=False)
    app.conf.update(
        task_serializer="json", accept_content=["json"], task_ignore_result=True, result_backend=None,
        task_default_queue=default_queue(), task_create_missing_queues=True,
        task_acks_late=True, task_reject_on_worker_lost=True,
        # a task that raised is acknowledged: the engine recorded the failure in the store, and
        # infrastructure errors are retried explicitly below (no poison message loops)
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1, worker_hijack_root_logger=False, worker_redirect_stdouts=False,
        worker_send_task_events=False, broker_connection_retry_on_startup=True, enable_utc=True,
    )
    transport: dict[str, Any] = {}
    if url.startswith(("redis", "rediss", "sentinel")):
        vt = visibility_timeout()
        transport = {"visibility_timeout": vt, "unacked_restore_interval": max(1.0, min(10.0, vt / 2)),
                     "unacked_restore_throttle": 1}
    if publisher:
        bounded = publisher_options(url, broker_timeout())
        transport.update(bounded.pop("transport"))
        app.conf.update(bounded)
    app.conf.broker_transport_options = transport
    return app


app = make_app()


@app.task(name=TASK, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None,
          ignore_result=True)
def execute_run(self: Task, run_id: str, waited: bool = False) -> str:
    """Execute or resume a run; while another live worker holds it, ask again later (never twice at once)."""
    try:
        outcome = execute_once(run_id, worker_store(), waited=waited)
    except DATABASE_ERRORS as exc:  # the database is unreachable: the run waits, as recorded
        log.warning("executor.store_unavailable", run_id=run_id, error=str(exc).splitlines()[0])
        raise self.retry(args=(run_id,), kwargs={"waited": waited}, countdown=busy_retry_seconds()) from None
    if outcome == "busy":
        raise self.retry(args=(run_id,), kwargs={"waited": True}, countdown=busy_retry_seconds())
    return outcome


class CeleryExecutor:
    """Sends runs to the broker, on the robot's queue (`queue:` in robot.yaml) or the default one."""

    name = "celery"

    def __init__(self, broker: str | None = None) -> None:
        self.app = make_app(broker, publisher=True)
        self.timeout = broker_timeout()

    def submit(self, run_id: str, queue: str | None = None) -> None:
        """Publish the run (returns once the broker has it; raises after ROBOCORE_BROKER_TIMEOUT or so)."""
        self.app.send_task(TASK, args=(run_id,), queue=queue or default_queue(), ignore_result=True,
                           retry=True, retry_policy=publish_retry_policy(self.timeout))

    def check(self, timeout: float | None = None) -> None:
        """Open (or reuse) a broker connection within the timeout; raises when the broker does not answer.

        What readiness probes call: it never publishes anything.
        """
        limit = timeout or self.timeout
        with self.app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2, interval_max=0.5,
                                   timeout=limit)
            _ = conn.default_channel  # Redis connects lazily: a channel makes it talk to the server

    def shutdown(self, wait: bool = True) -> None:
        """Release the broker connections (runs already sent stay with the broker)."""
        self.app.close()


class _JsonFormatter(logging.Formatter):
    """Celery's own log records as JSON lines, like the structlog events."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {"event": record.getMessage(), "level": record.levelname.lower(),
                                 "logger": record.name,
                                 "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat()}
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return json.dumps(event, ensure_ascii=False, default=str)


@setup_logging.connect
def _setup_logging(loglevel: Any = None, **_: Any) -> None:
    """Celery's logs as JSON on stdout (connecting here stops Celery from configuring its own)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(loglevel if isinstance(loglevel, int) else logging.getLevelName(str(loglevel or "INFO").upper()))
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)


def worker_argv(queues: list[str], concurrency: int, loglevel: str) -> list[str]:
    """The `celery worker` arguments of `robo worker`."""
    return ["worker", "--queues", ",".join(queues), "--concurrency", str(concurrency), "--loglevel", loglevel,
            "--hostname", f"robocore-{os.getpid()}@%h", "--pool", "prefork",
            "--without-gossip", "--without-mingle", "--without-heartbeat"]
