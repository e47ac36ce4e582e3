"""The sandbox's world: clients, projects, templates, special numbers and knobs.

A world is plain JSON (schema in ``sandbox/README.md``). ``world_normalise``
checks it and fills every default in, so ``GET /_sandbox/world`` shows exactly
what the sandbox believes.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
from datetime import timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

EXAMPLE_WORLD_PATH = Path(__file__).with_name("world.example.json")

DEFAULT_KNOBS: dict[str, Any] = {
    "latency_ms": 0,
    "token_latency_ms": 0,
    "error_5xx_rate": 0.0,
    "error_5xx_status": 502,
    "timeout_rate": 0.0,
    "timeout_sleep_s": 35.0,
    "callback_delay_ms": 200,
    "callbacks_enabled": True,
    "callback_retry_backoff_ms": 500,
    "callback_timeout_s": 5.0,
    "approve_delay_ms": 1000,
    "token_ttl_s": 7 * 24 * 3600,
    "force_new_token": False,
    "trust_x_forwarded_for": False,
}

# WhatsApp's own size limits; the Wappin document names no sizes.
DEFAULT_MEDIA_MAX_BYTES = {
    "image": 5 * 1024 * 1024,
    "audio": 16 * 1024 * 1024,
    "document": 100 * 1024 * 1024,
}

MEDIA_EXTENSIONS = {
    "document": ("pdf", "doc", "docx", "ppt", "pptx", "xls", "xlsx"),
    "image": ("jpg", "jpeg", "png"),
    "audio": ("aac", "m4a", "mp3", "ogg", "opus"),
}

# Used when the machine has no tz database (e.g. Windows without tzdata).
_FIXED_ZONES = {
    "Asia/Jakarta": 7,
    "Asia/Pontianak": 7,
    "Asia/Makassar": 8,
    "Asia/Jayapura": 9,
    "UTC": 0,
}

# Indonesian numbers as Wappin's examples write them, and any other country's in
# international form (E.164 digits without the +), as WhatsApp takes them.
_NUMBER_RE = re.compile(r"62\d{8,13}|(?!62)[1-9]\d{9,14}")


class WorldError(ValueError):
    """The world JSON does not follow the schema."""


def zone_get(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if name in _FIXED_ZONES:
            return timezone(timedelta(hours=_FIXED_ZONES[name]), name)
        raise WorldError(f"unknown timezone {name!r}") from None


def number_normalise(raw: object) -> str:
    """Wappin's own examples send both ``0823...`` and ``62823...``."""
    number = str(raw).strip()
    if number.startswith("0"):
        number = "62" + number[1:]
    return number


def number_is_valid(number: str) -> bool:
    return bool(_NUMBER_RE.fullmatch(number))


def world_load(path: str | Path | None) -> dict[str, Any]:
    source = Path(path) if path else EXAMPLE_WORLD_PATH
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise WorldError(f"cannot read world file {source}: {exc}") from exc
    return world_normalise(data)


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """JSON merge patch (RFC 7386): dicts merge, ``null`` deletes a key."""
    merged = copy.deepcopy(base)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def knobs_validate(knobs: Any, *, partial: bool) -> dict[str, Any]:
    if not isinstance(knobs, dict):
        raise WorldError("knobs must be a JSON object")
    result = {} if partial else dict(DEFAULT_KNOBS)
    for key, value in knobs.items():
        if key not in DEFAULT_KNOBS:
            raise WorldError(f"unknown knob {key!r}; known: {', '.join(DEFAULT_KNOBS)}")
        default = DEFAULT_KNOBS[key]
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise WorldError(f"knob {key!r} must be true or false")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise WorldError(f"knob {key!r} must be a number")
        elif value < 0:
            raise WorldError(f"knob {key!r} must not be negative")
        elif key.endswith("_rate") and value > 1:
            raise WorldError(f"knob {key!r} is a probability between 0 and 1")
        result[key] = value
    return result


def _str_list(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise WorldError(f"{what} must be a list")
    return [str(item) for item in value]


def _template_normalise(name: str, template: Any, where: str) -> dict[str, Any]:
    if not isinstance(template, dict):
        raise WorldError(f"{where}: template {name!r} must be an object")
    languages = _str_list(template.get("languages", ["id"]), f"{where}.{name}.languages")
    if not languages:
        raise WorldError(f"{where}: template {name!r} needs at least one language")
    param_count = template.get("param_count", 0)
    if not isinstance(param_count, int) or isinstance(param_count, bool) or param_count < 0:
        raise WorldError(f"{where}: template {name!r} param_count must be an integer >= 0")
    result = dict(template)
    result.update(
        active=bool(template.get("active", True)),
        languages=languages,
        param_count=param_count,
        header_param=bool(template.get("header_param", False)),
    )
    return result


def world_normalise(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise WorldError("the world must be a JSON object")
    world = copy.deepcopy(data)
    world["timezone"] = str(world.get("timezone") or "Asia/Jakarta")
    zone_get(world["timezone"])
    world["environment"] = str(world.get("environment") or "PRODUCTION")

    clients = world.get("clients") or {}
    if not isinstance(clients, dict):
        raise WorldError("clients must be an object keyed by client_id")
    normal_clients = {}
    for client_id, client in clients.items():
        if not isinstance(client, dict) or not isinstance(client.get("secret_key"), str):
            raise WorldError(f"client {client_id!r} needs a secret_key string")
        whitelist = _str_list(client.get("ip_whitelist"), f"clients.{client_id}.ip_whitelist")
        for entry in whitelist:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise WorldError(f"client {client_id!r}: {entry!r} is not an IP or CIDR") from None
        normal_clients[str(client_id)] = {
            **client,
            "secret_key": client["secret_key"],
            "name": str(client.get("name") or client_id),
            "ip_whitelist": whitelist,
        }
    world["clients"] = normal_clients

    projects = world.get("projects") or {}
    if not isinstance(projects, dict):
        raise WorldError("projects must be an object keyed by project_id")
    normal_projects = {}
    for project_id, project in projects.items():
        where = f"projects.{project_id}"
        if not isinstance(project, dict):
            raise WorldError(f"{where} must be an object")
        client_id = str(project.get("client_id", ""))
        if client_id not in normal_clients:
            raise WorldError(f"{where}.client_id {client_id!r} is not a known client")
        templates = project.get("templates") or {}
        if not isinstance(templates, dict):
            raise WorldError(f"{where}.templates must be an object keyed by template name")
        normal_projects[str(project_id)] = {
            **project,
            "client_id": client_id,
            "name": str(project.get("name") or project_id),
            "callback_url": str(project.get("callback_url") or ""),
            "templates": {
                str(name): _template_normalise(str(name), template, where)
                for name, template in templates.items()
            },
        }
    world["projects"] = normal_projects

    world["invalid_numbers"] = _str_list(world.get("invalid_numbers"), "invalid_numbers")
    world["undeliverable_numbers"] = _str_list(
        world.get("undeliverable_numbers"), "undeliverable_numbers"
    )
    media_max = world.get("media_max_bytes") or {}
    if not isinstance(media_max, dict):
        raise WorldError("media_max_bytes must be an object")
    world["media_max_bytes"] = {**DEFAULT_MEDIA_MAX_BYTES, **media_max}
    world["knobs"] = knobs_validate(world.get("knobs") or {}, partial=False)
    return world
