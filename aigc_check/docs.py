"""The README's generated sections, rendered from the code they document.

``python -m aigc_check.docs --readme README.md`` rewrites each section between its marker lines;
``tests/test_contract.py`` fails when the README and the code disagree.
"""

from __future__ import annotations

import sys

from . import contract
from .spark.schema import readme_table as result_rows_table


def csv_columns_line() -> str:
    return "`results.csv` columns: " + ", ".join(f"`{c}`" for c in contract.csv_columns()) + ".\n"


def sections() -> dict[str, str]:
    return {
        "contract table": contract.readme_table(),
        "csv columns": csv_columns_line(),
        "result rows table": result_rows_table(),
    }


def markers(name: str) -> tuple[str, str]:
    return (
        f"<!-- generated: {name} (python -m aigc_check.docs --readme README.md); do not edit -->",
        f"<!-- end of {name} -->",
    )


def sync_readme(text: str) -> str:
    """``text`` (a README) with every generated section rendered afresh; a missing marker is an error."""
    for name, body in sections().items():
        start, end = markers(name)
        if start not in text or end not in text:
            raise ValueError(f"the README lacks the markers of the {name}: {start} ... {end}")
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{start}\n{body}{end}{tail}"
    return text


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "--readme":
        with open(args[1], encoding="utf-8") as f:
            text = f.read()
        with open(args[1], "w", encoding="utf-8") as f:
            f.write(sync_readme(text))
        return 0
    if args:
        print("usage: python -m aigc_check.docs [--readme README.md]", file=sys.stderr)
        return 2
    for name, body in sections().items():
        print(f"{name}:\n{body}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
