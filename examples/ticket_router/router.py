"""Route support tickets with a policy: one queue and SLA per ticket, every decision logged.

    python examples/ticket_router/router.py examples/ticket_router/tickets.csv --log decisions.db

Reads tickets from a CSV file whose header names the ticket's id (`ticket`), when it was received
(`received`, ISO 8601 with a zone) and the facts `routing.policy` reads (`plan`, `category`,
`tenure`, `monthly_spend`, `reopened`). An empty cell leaves the fact out, so its default applies.

The policy is loaded once, with the decision log; each ticket is decided as of the moment it was
received, so a decision never depends on when the router happened to run, and printed as one
line: ticket, queue, SLA and the decision's id in the log (`policy explain --decision ID --log
...` explains it later, from the log alone).

A bad row stops the run with exit code 2 and a message naming the row, the ticket and every
problem with its facts; the tickets before it have been routed and logged. A policy with errors
exits 1 with its diagnostics.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import policylang

POLICY = Path(__file__).with_name("routing.policy")
ID_COLUMN = "ticket"
TIME_COLUMN = "received"


def route(tickets: Path, log_path: Path) -> int:
    """Decide every ticket of the CSV file and print one line each; return the exit code."""
    try:
        with tickets.open(newline="", encoding="utf-8") as file:
            reader = csv.DictReader(file)
            # Row 1 is the header, so the first ticket is row 2, as a spreadsheet numbers it.
            rows = [(reader.line_num, row) for row in reader]
            columns = set(reader.fieldnames or ())
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        print(f"{tickets}: cannot read the tickets: {error}", file=sys.stderr)
        return 2
    if missing := {ID_COLUMN, TIME_COLUMN} - columns:
        print(f"{tickets}: the header has no column {', '.join(sorted(missing))}", file=sys.stderr)
        return 2
    try:
        log = policylang.open_log(log_path)
    except policylang.LogError as error:
        print(error, file=sys.stderr)
        return 2
    with log:
        try:
            policy = policylang.load(POLICY, log=log)  # once: checked, compiled and analysed here
        except policylang.PolicyError as error:
            print(error, file=sys.stderr)  # every diagnostic, rendered as `policy check` does
            return 1
        for number, row in rows:
            if None in row:  # csv.DictReader puts the cells beyond the header under None
                print(f"{tickets}: row {number} has more cells than the header has columns", file=sys.stderr)
                return 2
            ticket = row.pop(ID_COLUMN)
            received = row.pop(TIME_COLUMN)
            facts = {name: value for name, value in row.items() if value}  # an empty cell: not given
            try:
                decision = policy.decide(facts, as_of=received)
            except policylang.FactsError as error:
                problems = "\n".join(f"  {problem.message}" for problem in error.problems)
                print(f"{tickets}: row {number} (ticket {ticket}) is not a valid ticket:\n{problems}", file=sys.stderr)
                return 2
            print(f"{ticket}  queue={decision['queue']}  sla={decision['sla']}  decision={decision.id}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Route support tickets from a CSV file with routing.policy.")
    parser.add_argument("tickets", type=Path, help="a CSV file of tickets")
    parser.add_argument("--log", type=Path, required=True, help="the decision log to record every decision in")
    arguments = parser.parse_args(argv)
    return route(arguments.tickets, arguments.log)


if __name__ == "__main__":
    sys.exit(main())
