"""Print the mutation score of each module mutmut mutated, and overall (`make mutants`).

Reads mutmut's results (`mutants/**/*.py.meta`) and the list of equivalent mutants
(`tests/mutation_equivalents.toml`: mutant name -> why no test can tell it apart), which count
neither as killed nor as survivors. A mutant whose tests time out counts as killed: the
suite noticed. Exits 1 when a module scores under the target (or has unchecked mutants).

    python tests/mutation_score.py [--target 95] [--survivors]
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "tests" / "mutation_equivalents.toml"
KILLED = {1: "killed", 3: "killed", 36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout"}


def outcome(exit_code: int | None) -> str:
    """killed, timeout, survived, no tests or unchecked."""
    if exit_code is None:
        return "unchecked"
    if exit_code in KILLED:
        return KILLED[exit_code]
    return {0: "survived", 5: "no tests", 33: "no tests"}.get(exit_code, "suspicious")


def results(mutants: Path) -> dict[str, dict[str, str]]:
    """module file -> mutant name -> outcome."""
    found: dict[str, dict[str, str]] = {}
    for meta in sorted(mutants.rglob("*.py.meta")):
        module = str(meta.relative_to(mutants)).removesuffix(".meta")
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        found[module] = {name: outcome(code) for name, code in codes.items()}
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=95.0, help="percent killed per module")
    parser.add_argument("--survivors", action="store_true", help="list surviving mutants")
    args = parser.parse_args()
    equivalent = tomllib.loads(EQUIVALENTS.read_text())["equivalent"]
    found = results(ROOT / "mutants")
    if not found:
        print("no mutmut results: run `make mutants` first", file=sys.stderr)
        return 1
    total: Counter[str] = Counter()
    below = False
    print(f"{'module':42} {'killed':>7} {'surv.':>6} {'equiv.':>6} {'other':>6} {'score':>7}")
    for module, outcomes in found.items():
        counts = Counter(
            "equivalent" if name in equivalent else state for name, state in outcomes.items()
        )
        total.update(counts)
        killed = counts["killed"] + counts["timeout"]
        judged = sum(counts.values()) - counts["equivalent"]
        other = judged - killed - counts["survived"]
        score = 100.0 * killed / judged if judged else 100.0
        below |= score < args.target or other > 0
        print(
            f"{module:42} {killed:7} {counts['survived']:6} {counts['equivalent']:6}"
            f" {other:6} {score:6.1f}%"
        )
        if args.survivors:
            for name, state in outcomes.items():
                if state != "killed" and state != "timeout" and name not in equivalent:
                    print(f"    {state:10} {name}")
    killed = total["killed"] + total["timeout"]
    judged = sum(total.values()) - total["equivalent"]
    print(f"{'overall':42} {killed:7} {total['survived']:6} {total['equivalent']:6}", end="")
    print(f" {judged - killed - total['survived']:6} {100.0 * killed / max(judged, 1):6.1f}%")
    print("(other: not checked yet, no tests, or suspicious)")
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())
