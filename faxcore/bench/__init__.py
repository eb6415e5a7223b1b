"""Benchmarks run by ``faxcore bench <name>``; each ends with one ``RESULT`` line."""

from collections.abc import Sequence

from faxcore.errors import FaxcoreError


class BenchError(FaxcoreError):
    """A benchmark could not run (no compiler, a baseline failed, wrong output)."""


def parse_result_line(line: str, keys: Sequence[str], benchmark: str) -> dict[str, float]:
    """The figures of ``RESULT k1=v1 k2=v2 ...``, which must carry exactly ``keys`` in order.

    Shared by every benchmark so tests and dashboards read one format.
    """
    words = line.strip().split()
    figures: dict[str, float] = {}
    for word in words[1:]:
        key, _, value = word.partition("=")
        try:
            figures[key] = float(value)
        except ValueError:
            break
    if words[:1] != ["RESULT"] or list(figures) != list(keys) or len(words) != len(keys) + 1:
        raise BenchError(f"not a {benchmark} benchmark RESULT line: {line!r}")
    return figures


__all__ = ["BenchError", "parse_result_line"]
