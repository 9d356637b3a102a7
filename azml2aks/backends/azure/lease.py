"""The endpoint lease: one rollout at a time on an Azure online endpoint.

Azure ML has no lock for an online endpoint, so azml2aks records one in the endpoint's own
tags (DESIGN.md, "one rollout at a time")::

    azml2aks.lease.run      the run id holding it (the run journal's id)
    azml2aks.lease.verb     what holds it: deploy, traffic, promote or rollback
    azml2aks.lease.owner    pid@host of the process holding it
    azml2aks.lease.expires  when it lapses, epoch seconds (UTC)

:mod:`.endpoints` reads the tags from a fresh GET and writes them back with a PATCH of the
tags alone (read-modify-write: every other tag is kept; a PUT would reset the traffic). A
lease whose ``expires`` has passed can be taken over; the same run may take its own lease
again (``deploy --resume`` after a crash). This module decides; it never calls Azure.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from azml2aks.errors import Azml2aksError, LockedError, NotFoundError
from azml2aks.retry import Poller

logger = logging.getLogger(__name__)

RUN_TAG = "azml2aks.lease.run"
VERB_TAG = "azml2aks.lease.verb"
OWNER_TAG = "azml2aks.lease.owner"
EXPIRES_TAG = "azml2aks.lease.expires"
LEASE_TAGS = (RUN_TAG, VERB_TAG, OWNER_TAG, EXPIRES_TAG)

#: How long a lease lasts before another run may take it over; renewed while held.
LEASE_SECONDS = 3600.0


def this_process() -> str:
    """``pid@host`` of the running process (no user name, nothing secret)."""
    return f"{os.getpid()}@{socket.gethostname()}"


@dataclass(frozen=True)
class Lease:
    """Who holds an endpoint, and until when (epoch seconds)."""

    run: str
    owner: str
    expires: float
    verb: str = "rollout"

    @classmethod
    def from_tags(cls, tags: Mapping[str, str] | None) -> Lease | None:
        """The lease recorded in ``tags``; None when there is none (or it is unreadable)."""
        tags = tags or {}
        run = tags.get(RUN_TAG)
        if not run:
            return None
        try:
            expires = float(tags.get(EXPIRES_TAG) or 0)
        except ValueError:
            expires = 0.0  # unreadable: treated as lapsed, so it can be taken over
        return cls(run=run, owner=tags.get(OWNER_TAG) or "?", expires=expires, verb=tags.get(VERB_TAG) or "rollout")

    @classmethod
    def new(cls, run: str, now: float, *, seconds: float = LEASE_SECONDS, owner: str | None = None,
            verb: str = "rollout") -> Lease:
        return cls(run=run, owner=owner or this_process(), expires=now + seconds, verb=verb)

    def tags(self) -> dict[str, str]:
        return {RUN_TAG: self.run, VERB_TAG: self.verb, OWNER_TAG: self.owner, EXPIRES_TAG: str(int(self.expires))}

    def expired(self, now: float) -> bool:
        return self.expires <= now

    def renewal_due(self, now: float, *, seconds: float = LEASE_SECONDS) -> bool:
        """True once less than half the lease is left."""
        return self.expires - now < seconds / 2

    def describe(self, now: float) -> str:
        """``deploy of run 20261129-101500-ab12 (4242@agent-7), lease until 10:45:00 UTC``."""
        until = time.strftime("%H:%M:%S UTC", time.gmtime(self.expires))
        state = "lapsed" if self.expired(now) else "lease until"
        return f"{self.verb} of run {self.run} ({self.owner}), {state} {until}"


def may_take(current: Lease | None, now: float, *, alive: Callable[[str], bool]) -> bool:
    """Whether the endpoint may be taken now: free, lapsed, held by this very process, or held
    by a process ``alive(owner)`` says is gone (a crashed run on this host)."""
    return (current is None or current.expired(now) or current.owner == this_process()
            or not alive(current.owner))


def owner_alive(owner: str) -> bool:
    """False only when ``owner`` (``pid@host``) is a process of this host that no longer runs;
    a process on another host is assumed alive until its lease lapses."""
    pid, _, host = owner.partition("@")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def with_lease(tags: Mapping[str, str] | None, lease: Lease | None) -> dict[str, str]:
    """``tags`` with the lease tags replaced by ``lease`` (or removed when None)."""
    out = {k: v for k, v in (tags or {}).items() if k not in LEASE_TAGS}
    if lease is not None:
        out.update(lease.tags())
    return out


class EndpointLeases:
    """``hold_endpoint`` for :class:`.endpoints.AzureEndpoints`, which provides ``arm``,
    ``_read``, ``_patch_tags`` and the ``_held``/``_depth``/``_seen`` dictionaries."""

    arm: Any
    _held: dict[str, Lease]
    _depth: dict[str, int]
    _seen: dict[tuple[str, str], tuple[float, Any]]
    # provided by AzureEndpoints: _read(name, *, max_age=0) -> the endpoint's ARM body;
    # _patch_tags(name, body, tags) -> None (a PATCH of the tags alone)
    _read: Callable[..., dict[str, Any]]
    _patch_tags: Callable[..., None]

    @contextlib.contextmanager
    def hold_endpoint(self, name: str, *, holder: Mapping[str, Any], timeout: float) -> Iterator[None]:
        """Hold ``name``'s lease for ``holder`` (``run_id``, ``verb``): refuse at once (``timeout``
        0) or wait up to ``timeout`` seconds while another run holds it (LockedError names that
        run). A lapsed lease is taken over. A missing endpoint is leased as it is created."""
        run = str(holder.get("run_id") or "unknown-run")
        verb = str(holder.get("verb") or "rollout")
        if self._depth.get(name):
            self._depth[name] += 1
            try:
                yield
            finally:
                self._depth[name] -= 1
            return
        try:
            self._take(name, run, verb, timeout or 0)
        except BaseException:
            self._held.pop(name, None)
            self._seen.clear()
            raise
        self._depth[name] = 1
        try:
            yield
        finally:
            self._depth[name] = 0
            self._release(name)

    def _take(self, name: str, run: str, verb: str, timeout: float) -> None:
        poller = Poller(initial=5.0, factor=1.5, max_delay=30.0, timeout=timeout,
                        sleep=self.arm.sleep, clock=self.arm.clock)
        current: Lease | None = None
        for _ in poller:
            try:
                body = self._read(name)
            except NotFoundError:
                self._held[name] = Lease.new(run, self.arm.now(), verb=verb)
                return
            current = Lease.from_tags(body.get("tags"))
            now = self.arm.now()
            if may_take(current, now, alive=owner_alive):
                if current is not None:
                    logger.warning("endpoint %s: taking over the lease of %s (lapsed or its process is gone)",
                                   name, current.describe(now))
                lease = Lease.new(run, now, verb=verb)
                self._held[name] = lease
                self._patch_tags(name, body, with_lease(body.get("tags"), lease))
                return
            if timeout:
                logger.info("endpoint %s is leased by %s; waiting", name, current.describe(now))
        assert current is not None
        raise LockedError(
            f"endpoint {name!r} is busy: {current.describe(self.arm.now())} holds its rollout lock",
            hint="wait for it (add --wait-lock), or after it lapses run again; a crashed run of this work dir "
                 "continues with `azml2aks deploy PIPELINE --resume`", holder=current.run)

    def _check_lease(self, name: str, body: dict[str, Any]) -> None:
        """Another run took the lease meanwhile: stop before changing anything."""
        mine = self._held.get(name)
        if mine is None:
            return
        current = Lease.from_tags(body.get("tags"))
        if current is not None and current.owner != mine.owner and not current.expired(self.arm.now()):
            raise LockedError(f"endpoint {name!r} was taken over by {current.describe(self.arm.now())}",
                              hint="nothing more was changed; check `azml2aks status PIPELINE`", holder=current.run)

    def _renew(self, name: str) -> None:
        mine = self._held.get(name)
        if mine is None or not mine.renewal_due(self.arm.now()):
            return
        body = self._read(name)
        lease = Lease.new(mine.run, self.arm.now(), owner=mine.owner, verb=mine.verb)
        self._patch_tags(name, body, with_lease(body.get("tags"), lease))
        self._held[name] = lease

    def _release(self, name: str) -> None:
        mine = self._held.get(name)
        if mine is None:
            return
        try:
            body = self._read(name)  # fresh: never wipe a lease someone took meanwhile
            current = Lease.from_tags(body.get("tags"))
            if current is not None and current.owner == mine.owner:
                self._patch_tags(name, body, with_lease(body.get("tags"), None))
        except NotFoundError:  # never created (the rollout stopped before): nothing to release
            pass
        except Azml2aksError as e:  # the lease lapses on its own
            logger.warning("endpoint %s: could not release the lease (%s); it lapses at %s", name, e.message,
                           mine.describe(self.arm.now()))
        finally:
            self._held.pop(name, None)
            self._seen.clear()
