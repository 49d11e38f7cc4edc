"""The device side of the command protocol: parse, authorise, de-duplicate, run, reply.

Why the order of checks: cheap and attacker-facing first (size, JSON, schema, rate limit,
signature), then the durable id claim, then execution on a worker thread with a bounded queue,
so a flood costs the network thread a parse at most and never reaches the frame pipeline.
Every request gets a reply, even one that cannot be parsed (id '' then).
"""

from __future__ import annotations

import collections
import logging
import queue
import threading
import time
import typing
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

from pydantic import BaseModel, ValidationError

from edge_agent.fleet.channel import CommandChannel, MessageProperties
from edge_agent.fleet.dispatcher import CommandDispatcher
from edge_agent.fleet.envelope import (
    MAX_REQUEST_BYTES,
    CommandReply,
    CommandRequest,
    ReplyState,
    best_effort_ids,
    encode,
)
from edge_agent.fleet.errors import CommandFailed, validation_reason
from edge_agent.fleet.ledger import CommandLedger
from edge_agent.fleet.rate_limit import SenderRateLimiter
from edge_agent.fleet.signing import SignatureVerifier
from edge_agent.fleet.topics import FleetTopics
from edge_agent.runtime.worker import WorkerHealth
from edge_agent.settings.fleet import FleetSettings

logger = logging.getLogger(__name__)

_PROGRESS_MIN_INTERVAL_S = 0.5
_STOP = object()


@dataclass(frozen=True)
class _Job:
    request: CommandRequest
    args: BaseModel
    reply_topic: str
    correlation: bytes


class CommandReceiver:
    """Listens on the device, site and fleet request topics of one device."""

    def __init__(
        self,
        topics: FleetTopics,
        channel: CommandChannel,
        dispatcher: CommandDispatcher,
        ledger: CommandLedger,
        settings: FleetSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._topics = topics
        self._channel = channel
        self._dispatcher = dispatcher
        self._ledger = ledger
        self._settings = settings
        self._clock = clock
        self._scope = f"command:{topics.device_id}"
        self._limiter = SenderRateLimiter(settings.rate_per_s, settings.burst)
        keyring = settings.keyring()
        self._verifier: Optional[SignatureVerifier] = None
        if keyring or settings.require_signature:
            self._verifier = SignatureVerifier(
                keyring,
                lambda nonce, keep: ledger.claim(f"nonce:{topics.device_id}", nonce, keep) is None,
                settings.signature_window_s,
                clock,
            )
        self._jobs: "queue.Queue[object]" = queue.Queue(settings.queue_size)
        self._thread: Optional[threading.Thread] = None
        self._counts: "typing.Counter[str]" = collections.Counter()
        self._denied: "typing.Counter[str]" = collections.Counter()
        self._lock = threading.Lock()
        self._deaths = 0
        self._last_error = ""

    @property
    def request_topics(self) -> List[str]:
        """Device, site and fleet request topics."""
        t = self._topics
        return [t.requests, t.site_requests, t.fleet_requests]

    def start(self) -> None:
        """Start the worker, then subscribe."""

        self._thread = threading.Thread(
            target=self._work, name=f"fleet-commands-{self._topics.device_id}", daemon=True
        )
        self._thread.start()
        for topic in self.request_topics:
            self._channel.subscribe(topic, self.on_message)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Finish the running command (queued ones are dropped) and end the worker."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        while True:
            try:
                self._jobs.get_nowait()
            except queue.Empty:
                break
        self._jobs.put(_STOP)
        thread.join(timeout_s)

    def counters(self) -> Dict[str, int]:
        """received, done, failed, and one counter per refusal code."""
        with self._lock:
            return dict(self._counts)

    def denied_reasons(self) -> Dict[str, int]:
        """Signature failures by internal reason (for the local log/telemetry only)."""
        with self._lock:
            return dict(self._denied)

    def limited_senders(self) -> Dict[str, int]:
        """Rate-limited commands per sender."""
        return self._limiter.limited()

    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    # -- network side -----------------------------------------------------------------------

    def on_message(self, topic: str, payload: bytes, properties: MessageProperties) -> None:
        """Channel callback: never raises; every outcome is a reply."""
        self._count("received")
        reply_topic = properties.response_topic or self._topics.replies
        correlation = properties.correlation_data
        try:
            job = self._admit(payload, reply_topic, correlation)
        except CommandFailed as failure:
            ids = best_effort_ids(payload)
            self._count(failure.code)
            self._send(reply_topic, correlation, ids["id"], ids["request_id"], "failed",
                       code=failure.code, reason=failure.reason)
            return
        except Exception:  # noqa: BLE001 - a bug must not kill the network thread
            logger.exception("fleet: unexpected error admitting a command")
            ids = best_effort_ids(payload)
            self._count("error")
            self._send(reply_topic, correlation, ids["id"], ids["request_id"], "failed",
                       code="error", reason="internal error; see the device log")
            return
        self._enqueue(job)

    def _admit(self, payload: bytes, reply_topic: str, correlation: bytes) -> _Job:
        if self._thread is None:
            raise CommandFailed("busy", "the device is shutting down; send again later")
        if len(payload) > MAX_REQUEST_BYTES:
            raise CommandFailed(
                "malformed", f"request is {len(payload)} bytes; the limit is {MAX_REQUEST_BYTES}"
            )
        try:
            request = CommandRequest.model_validate_json(payload)
        except ValidationError as err:
            raise CommandFailed("malformed", validation_reason(err, "request")) from None
        except RecursionError:
            raise CommandFailed("malformed", "request: nested too deeply") from None
        if not self._limiter.allow(request.sender):
            raise CommandFailed("rate_limited", f"sender {request.sender!r} is over its rate")
        if self._verifier is not None and (
            request.signature is not None or self._settings.require_signature
        ):
            denied = self._verifier.verify(request)
            if denied is not None:
                with self._lock:
                    self._denied[denied] += 1
                logger.warning("fleet: refused command %s: signature check failed (%s)",
                               request.id, denied)
                raise CommandFailed("unauthorised", "signature not accepted")
        now = self._clock()
        if request.expires_at <= now:
            raise CommandFailed(
                "expired", f"expired {now - request.expires_at:.0f} s ago; not executed"
            )
        if request.expires_at - now > self._settings.max_lifetime_s:
            raise CommandFailed(
                "invalid_args",
                f"expires_at: more than {self._settings.max_lifetime_s:g} s ahead",
            )
        args = self._dispatcher.parse_args(request.command, request.args)
        keep_until = request.expires_at + self._settings.id_memory_s
        previous = self._ledger.claim(self._scope, request.id, keep_until)
        if previous is not None:
            raise CommandFailed(
                "duplicate", f"command {request.id} was already received ({previous}); "
                "not executed again"
            )
        return _Job(request, args, reply_topic, correlation)

    def _enqueue(self, job: _Job) -> None:
        """Accepted is published before the worker can see the job, so replies stay in
        order (accepted, progress, done/failed)."""
        self._send_for(job, "accepted")
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            self._ledger.finish(self._scope, job.request.id, "refused-busy")
            self._count("busy")
            self._send_for(job, "failed", code="busy",
                           reason="too many commands waiting; send again later")

    # -- worker side ------------------------------------------------------------------------

    def _work(self) -> None:
        try:
            while True:
                item = self._jobs.get()
                if item is _STOP:
                    return
                assert isinstance(item, _Job)
                self._execute(item)
        except BaseException as err:  # noqa: BLE001 - a death must be seen: the agent's
            # supervisor reads health() and stops the watchdog (commands would go unanswered)
            with self._lock:
                self._deaths += 1
                self._last_error = f"{type(err).__name__}: {err}"
            logger.exception("fleet: the command worker died")

    def health(self) -> WorkerHealth:
        """The command worker's liveness, for the agent's supervisor."""
        thread = self._thread
        with self._lock:
            return WorkerHealth(thread.name if thread is not None else "fleet-commands",
                                thread is not None and thread.is_alive() and not self._deaths,
                                self._deaths, 0, self._last_error, None)

    def _execute(self, job: _Job) -> None:
        last = [0.0]

        def progress(percent: float, step: str) -> None:
            now = time.monotonic()
            if now - last[0] >= _PROGRESS_MIN_INTERVAL_S or percent >= 100.0:
                last[0] = now
                self._send_for(job, "progress", reason=step[:500],
                               progress_pct=max(0.0, min(100.0, percent)))

        try:
            result = self._dispatcher.run(job.request.command, job.args, progress)
        except CommandFailed as failure:
            self._ledger.finish(self._scope, job.request.id, f"failed:{failure.code}")
            self._count("failed")
            self._count(failure.code)
            self._send_for(job, "failed", code=failure.code, reason=failure.reason)
            return
        except Exception as err:  # noqa: BLE001 - a handler bug ends in a reply, not silence
            logger.exception("fleet: command %s (%s) crashed", job.request.id, job.request.command)
            self._ledger.finish(self._scope, job.request.id, "failed:error")
            self._count("failed")
            self._send_for(job, "failed", code="error",
                           reason=f"internal error: {type(err).__name__}: {err}"[:500])
            return
        self._ledger.finish(self._scope, job.request.id, "done")
        self._count("done")
        self._send_for(job, "done", result=result)

    def _send_for(self, job: _Job, state: ReplyState, **fields: object) -> None:
        self._send(job.reply_topic, job.correlation, job.request.id,
                   job.request.request_id or job.request.id, state, **fields)

    def _send(self, topic: str, correlation: bytes, command_id: str, request_id: str,
              state: ReplyState, **fields: object) -> None:
        reply = CommandReply(
            id=command_id, request_id=request_id, device_id=self._topics.device_id,
            state=state, ts=self._clock(), **fields,
        )
        try:
            self._channel.publish_reply(topic, encode(reply), correlation)
        except Exception:  # noqa: BLE001 - a closed channel must not kill the worker
            logger.warning("fleet: could not publish the %s reply of %s", state, command_id,
                           exc_info=True)
