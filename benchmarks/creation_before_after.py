"""Ticket creation with the statistics' summary tables, against the code before them (issue 13:
"ticket creation throughput no worse than before the summary tables, print both").

    python benchmarks/creation_before_after.py --other before=../before [--other name=DIR ...]
        [--rounds 2] [--seconds 8] [--connections 32]

Each `--other` is another checkout with its own virtualenv (`make install` in it); to compare
with the code before the summary tables, check out the first parent of the merge that brought
them (the merge is 6cb68aa, "Merge branch 'stats'"):

    git worktree add --detach ../before 6cb68aa^1
    (cd ../before && python3 -m venv .venv && make install)

That code also lacks later, unrelated work (rate limits, token versions), so a second `--other`
may be this code with the summary writes patched out (a throwaway, uncommitted change: in
ticket_service/creation.py pass `append=()` to `insert_together`).

A round runs `benchmarks/tickets.py --rounds 1` of this checkout and then of each other one, each
on a database of its own (`bench_creation_<name>`, dropped and created afresh first: migrations
differ, and every checkout starts from the same empty tables), so the checkouts alternate within
seconds of each other. The machine's speed drifts by a third within a minute, so each run's
figure is its creation rate over its own bare insert rate (the same bare app and load generator
in every checkout, seconds apart); the medians over the rounds are printed for each checkout
side by side with its creation rate, p50 and the ticket service's CPU milliseconds per creation,
and this checkout's creation rate over each other's round by round. Every other round runs the
checkouts in the reverse order.
Run it under the shared lock (`flock /tmp/heavy.lock ...`) on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.db import create_engine

HERE = Path(__file__).resolve().parent.parent
SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432"


@dataclass
class Runs:
    directory: Path
    ratio: list[float] = field(default_factory=list)
    rate: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    tickets_cpu: list[float] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)


async def recreate(url: str) -> None:
    admin = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        name = make_url(url).database
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()


def run_once(name: str, runs: Runs, args: argparse.Namespace) -> None:
    env = {**os.environ, "BENCH_DATABASE_URL": f"{SERVER}/bench_creation_{name}"}
    output = subprocess.run(
        [
            str(runs.directory / ".venv" / "bin" / "python"),
            "benchmarks/tickets.py",
            "--rounds",
            "1",
            "--seconds",
            str(args.seconds),
            "--connections",
            str(args.connections),
        ],
        cwd=runs.directory,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = {
        match.group(1).strip(): (float(match.group(2)), float(match.group(3)))
        for match in re.finditer(r"^(bare insert|ticket create via gateway)\s+([\d.]+)\s+([\d.]+)", output, re.M)
    }
    cpu = re.search(r"^\s+ticket create via gateway\s+tickets ([\d.]+)", output, re.M)
    bare, create = figures["bare insert"][0], figures["ticket create via gateway"]
    runs.bare.append(bare)
    runs.rate.append(create[0])
    runs.p50.append(create[1])
    runs.ratio.append(create[0] / bare)
    runs.tickets_cpu.append(float(cpu.group(1)) if cpu else float("nan"))
    print(
        f"  {name:<10} create {create[0]:6.0f} req/s  p50 {create[1]:6.1f} ms  bare {bare:6.0f}  "
        f"ratio {create[0] / bare:.2f}  load {os.getloadavg()[0]:.2f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--other", action="append", default=[], help="name=DIR: another checkout to compare")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    checkouts = {"this": Runs(HERE)}
    for other in args.other:
        name, _, directory = other.partition("=")
        checkouts[name] = Runs(Path(directory).resolve())
    for name in checkouts:
        asyncio.run(recreate(f"{SERVER}/bench_creation_{name}"))
    print(f"{args.rounds} rounds of {', '.join(f'{n} ({r.directory})' for n, r in checkouts.items())}")
    for number in range(1, args.rounds + 1):
        print(f"round {number}", flush=True)
        # Every other round in the reverse order: a checkout that always ran first would always
        # meet the machine as the last one left it (PostgreSQL's writes, the cores' heat).
        order = list(checkouts.items())
        for name, runs in order if number % 2 else reversed(order):
            run_once(name, runs, args)
    print(f"{'checkout':<10}{'create/bare':>13}{'create req/s':>14}{'p50 ms':>9}{'tickets CPU ms':>16}  (medians)")
    for name, runs in checkouts.items():
        print(
            f"{name:<10}{statistics.median(runs.ratio):>13.2f}{statistics.median(runs.rate):>14.0f}"
            f"{statistics.median(runs.p50):>9.1f}{statistics.median(runs.tickets_cpu):>16.2f}"
            f"   ratios {', '.join(f'{r:.2f}' for r in runs.ratio)}"
        )
    this = checkouts["this"]
    for name, runs in checkouts.items():
        if name != "this":
            # Rates of one round, minutes apart at most: the machine's drift between rounds cancels.
            paired = [mine / theirs for mine, theirs in zip(this.rate, runs.rate, strict=True)]
            print(
                f"this / {name} creation rate, round by round: median {statistics.median(paired):.2f}"
                f" ({', '.join(f'{r:.2f}' for r in paired)})"
            )


if __name__ == "__main__":
    main()
