"""`python -m sla_worker`: run the SLA worker until SIGINT/SIGTERM."""

from __future__ import annotations

from sla_worker.worker import create_worker


def main() -> None:
    create_worker().run()


if __name__ == "__main__":
    main()
