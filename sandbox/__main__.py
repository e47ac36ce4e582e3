"""``python -m sandbox --host 127.0.0.1 --port 9100 --world world.json``"""

from __future__ import annotations

import argparse
import logging
import sys

from sandbox.server import server_start
from sandbox.state import State
from sandbox.world import WorldError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Wappin API sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100, help="0 picks a free port")
    parser.add_argument("--world", default=None, help="world JSON (default: world.example.json)")
    parser.add_argument("--workers", type=int, default=16, help="callback worker threads")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr)
    try:
        state = State(world_path=args.world, workers=args.workers)
    except WorldError as exc:
        parser.error(str(exc))
    server = server_start(args.host, args.port, state, verbose=args.verbose)
    host, port = server.server_address[:2]
    print(f"sandbox listening on http://{host}:{port}", flush=True)  # noqa: T201
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        state.scheduler.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
