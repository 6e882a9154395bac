"""`python -m sla_worker` runs the SLA worker until SIGINT/SIGTERM;
`python -m sla_worker check` exits 0 if a worker has reported healthy recently (arq --check)."""

from __future__ import annotations

import asyncio
import logging
import sys

from arq.worker import async_check_health

from sla_worker.settings import WorkerSettings
from sla_worker.worker import create_worker, redis_settings


def main(argv: list[str]) -> int:
    if argv[:1] == ["check"]:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
        settings = WorkerSettings()
        return asyncio.run(async_check_health(redis_settings(settings), queue_name=settings.queue_name))
    create_worker().run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
