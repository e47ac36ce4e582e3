"""What every benchmark shares: timing, the result row, the table and the JSON file."""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Latency medians are taken over at least this many samples, after a warm-up.
SAMPLES = 25
WARMUP = 3


class BenchError(RuntimeError):
    """A benchmark could not measure (an unexpected answer): the run fails, it does not guess."""


@dataclass
class Result:
    key: str
    name: str
    measured: str
    ratio: float
    target: float
    # "<=": the ratio must not exceed the target; ">=": it must reach it.
    compare: str = "<="
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        if self.compare == ">=":
            return self.ratio >= self.target
        return self.ratio <= self.target

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def medians_interleaved(
    calls: dict[str, Callable[[], Any]], *, samples: int = SAMPLES, warmup: int = WARMUP
) -> dict[str, float]:
    """The median seconds of each call, sampled in turns (a, b, b, a, ...) so drift hits all alike."""
    names = list(calls)
    for _ in range(warmup):
        for name in names:
            calls[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(samples):
        order = names if round_number % 2 == 0 else list(reversed(names))
        for name in order:
            times[name].append(timed(calls[name]))
    return {name: statistics.median(values) for name, values in times.items()}


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def expect_status(response, status: int = 200, what: str = "") -> Any:
    if response.status_code != status:
        body = b"" if getattr(response, "streaming", False) else response.content[:300]
        raise BenchError(
            f"{what or 'request'}: HTTP {response.status_code}, expected {status}: {body!r}"
        )
    return response


def table(results: list[Result]) -> str:
    headers = ["#", "Benchmark", "Measured", "Ratio", "Target", "Result"]
    rows = [
        [
            result.key,
            result.name,
            result.measured,
            f"{result.ratio:.2f}",
            f"{result.compare} {result.target:g}",
            "PASS" if result.passed else "FAIL",
        ]
        for result in results
    ]
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    line = "  ".join("-" * width for width in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)), line]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(out)


def results_write(path: Path, *, results: list[Result], extra: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        **extra,
        "passed": all(result.passed for result in results),
        "benchmarks": [result.as_dict() for result in results],
    }
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
