"""The repository's layers: tests stand on their own, without the benchmark scripts."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READS_BENCHMARKS = ('"benchmarks"', "'benchmarks'", "import benchmarks", "from benchmarks")


def test_no_test_reads_the_benchmarks_folder():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("*.py")
                 if p.name != "test_layout.py" and any(s in p.read_text() for s in READS_BENCHMARKS)]
    assert offenders == []
