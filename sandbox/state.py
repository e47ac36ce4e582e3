"""Everything the sandbox remembers, behind one lock."""

from __future__ import annotations

import copy
import json
import logging
import os
import secrets
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sandbox.scheduler import Scheduler
from sandbox.world import (
    WorldError,
    deep_merge,
    knobs_validate,
    world_load,
    world_normalise,
    zone_get,
)

logger = logging.getLogger(__name__)

MAX_MESSAGES = 100_000
MAX_CALLBACK_LOG = 20_000


@dataclass
class Token:
    access_token: str
    client_id: str
    expires_at: float


def tokens_path_for(world_path: str | Path | None) -> Path | None:
    """Where the tokens of a world are kept: beside its file (`world.json` -> `world.tokens.json`)."""
    if world_path is None:
        return None
    path = Path(world_path)
    return path.with_name(f"{path.stem}.tokens.json")


class State:
    def __init__(self, *, world_path: str | Path | None, workers: int = 16) -> None:
        self.lock = threading.RLock()
        self.world_path = world_path
        self.world: dict[str, Any] = world_load(world_path)
        self.knobs: dict[str, Any] = dict(self.world["knobs"])
        self.tokens: dict[str, Token] = {}
        self.current_tokens: dict[str, Token] = {}
        # Wappin keeps the tokens it issued across its restarts, so the sandbox does too.
        self.tokens_path = tokens_path_for(world_path)
        self._tokens_load()
        self.messages: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.callback_log: deque[dict[str, Any]] = deque(maxlen=MAX_CALLBACK_LOG)
        self.scheduler = Scheduler(workers=workers)
        self._last_id_us = 0

    # -- world and knobs -------------------------------------------------
    def world_get(self) -> dict[str, Any]:
        with self.lock:
            world = copy.deepcopy(self.world)
            world["knobs"] = dict(self.knobs)
            return world

    def world_replace(self, data: Any) -> dict[str, Any]:
        world = world_normalise(data)
        with self.lock:
            self.world = world
            self.knobs = dict(world["knobs"])
        return self.world_get()

    def world_patch(self, patch: Any) -> dict[str, Any]:
        if not isinstance(patch, dict):
            raise WorldError("a world patch must be a JSON object")
        with self.lock:
            current = self.world_get()
            world = world_normalise(deep_merge(current, patch))
            self.world = world
            self.knobs = dict(world["knobs"])
        return self.world_get()

    def world_reload(self) -> dict[str, Any]:
        world = world_load(self.world_path)
        with self.lock:
            self.world = world
            self.knobs = dict(world["knobs"])
        return self.world_get()

    def knobs_update(self, partial: Any) -> dict[str, Any]:
        changes = knobs_validate(partial, partial=True)
        with self.lock:
            self.knobs.update(changes)
            self.world["knobs"] = dict(self.knobs)
            return dict(self.knobs)

    def knob(self, name: str) -> Any:
        return self.knobs[name]

    def reset(self) -> None:
        """Back to the world file: no tokens, messages, callbacks or pending jobs."""
        world = world_load(self.world_path)
        self.scheduler.clear()
        with self.lock:
            self.world = world
            self.knobs = dict(world["knobs"])
            self.tokens.clear()
            self.current_tokens.clear()
            self._tokens_save()
            self.messages.clear()
            self.callback_log.clear()

    # -- time and ids ----------------------------------------------------
    def local_datetime(self, epoch: float) -> str:
        zone = zone_get(self.world["timezone"])
        return datetime.fromtimestamp(epoch, zone).strftime("%Y-%m-%d %H:%M:%S")

    def message_id_new(self) -> str:
        """13 lowercase hex digits, built like PHP's uniqid() that Wappin's look like."""
        with self.lock:
            now_us = max(int(time.time() * 1_000_000), self._last_id_us + 1)
            self._last_id_us = now_us
        seconds, micros = divmod(now_us, 1_000_000)
        return f"{seconds:08x}{micros:05x}"

    # -- tokens ----------------------------------------------------------
    def token_issue(self, client_id: str) -> tuple[Token, bool]:
        """The client's valid token (and False), or a fresh one (and True)."""
        now = time.time()
        with self.lock:
            current = self.current_tokens.get(client_id)
            if current and current.expires_at > now and not self.knobs["force_new_token"]:
                return current, False
            if current:
                # A regenerated token replaces the old one, as the dashboard's button does.
                self.tokens.pop(current.access_token, None)
            token = Token(
                access_token=secrets.token_hex(32),
                client_id=client_id,
                expires_at=now + float(self.knobs["token_ttl_s"]),
            )
            self.tokens[token.access_token] = token
            self.current_tokens[client_id] = token
            self._tokens_save()
            return token, True

    def token_client(self, access_token: str) -> str | None:
        with self.lock:
            token = self.tokens.get(access_token)
            if token is None or token.expires_at <= time.time():
                return None
            return token.client_id

    def token_for_callback(self, client_id: str) -> str:
        """Wappin signs callbacks with the client's current token; make one if none is valid."""
        token, _ = self.token_issue(client_id)
        return token.access_token

    def token_revoke(self, client_id: str) -> bool:
        with self.lock:
            token = self.current_tokens.pop(client_id, None)
            if token:
                self.tokens.pop(token.access_token, None)
                self._tokens_save()
            return token is not None

    def token_expire(self, client_id: str) -> bool:
        with self.lock:
            token = self.current_tokens.get(client_id)
            if token:
                token.expires_at = time.time() - 1
                self._tokens_save()
            return token is not None

    def _tokens_load(self) -> None:
        """The clients' current tokens from the tokens file (none if it is missing or unreadable)."""
        if self.tokens_path is None or not self.tokens_path.exists():
            return
        try:
            stored = json.loads(self.tokens_path.read_text())
            tokens = {
                client_id: Token(
                    access_token=str(entry["access_token"]),
                    client_id=client_id,
                    expires_at=float(entry["expires_at"]),
                )
                for client_id, entry in stored.items()
            }
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            logger.warning("ignoring the unreadable tokens file %s: %s", self.tokens_path, exc)
            return
        self.current_tokens = tokens
        self.tokens = {token.access_token: token for token in tokens.values()}

    def _tokens_save(self) -> None:
        """Write the clients' current tokens (called under the lock; atomic: write, then rename)."""
        if self.tokens_path is None:
            return
        data = {
            client_id: {"access_token": token.access_token, "expires_at": token.expires_at}
            for client_id, token in self.current_tokens.items()
        }
        partial = self.tokens_path.with_name(self.tokens_path.name + ".partial")
        try:
            partial.write_text(json.dumps(data))
            os.replace(partial, self.tokens_path)
        except OSError as exc:
            logger.warning("could not keep the tokens in %s: %s", self.tokens_path, exc)

    def tokens_list(self) -> dict[str, Any]:
        with self.lock:
            return {
                client_id: {
                    "access_token": token.access_token,
                    "expired_datetime": self.local_datetime(token.expires_at),
                    "expired": token.expires_at <= time.time(),
                }
                for client_id, token in self.current_tokens.items()
            }

    # -- messages --------------------------------------------------------
    def message_store(self, record: dict[str, Any]) -> None:
        with self.lock:
            self.messages[record["message_id"]] = record
            while len(self.messages) > MAX_MESSAGES:
                self.messages.popitem(last=False)

    def message_timeline(self, message_id: str) -> list[dict[str, str]] | None:
        with self.lock:
            record = self.messages.get(message_id)
            return None if record is None else [dict(step) for step in record["timeline"]]

    def message_status_add(self, message_id: str, status: str, timestamp: str) -> bool:
        with self.lock:
            record = self.messages.get(message_id)
            if record is None:
                return False
            record["timeline"].append({"status": status, "timestamp": timestamp})
            record["status"] = status
            return True

    def messages_list(self, filters: dict[str, str], limit: int) -> list[dict[str, Any]]:
        with self.lock:
            records = [
                copy.deepcopy(record)
                for record in self.messages.values()
                if all(str(record.get(key)) == value for key, value in filters.items())
            ]
        return records[-limit:] if limit else records

    # -- callbacks log ---------------------------------------------------
    def callback_log_add(self, entry: dict[str, Any]) -> None:
        if self.scheduler.is_stale():
            return  # an attempt that was in flight when the sandbox was reset
        with self.lock:
            self.callback_log.append(entry)

    def callbacks_list(self, filters: dict[str, str], limit: int) -> list[dict[str, Any]]:
        with self.lock:
            entries = [
                copy.deepcopy(entry)
                for entry in self.callback_log
                if all(str(entry.get(key)) == value for key, value in filters.items())
            ]
        return entries[-limit:] if limit else entries
