"""Precision and recall of the draft chronology's dates on a written test set.

    .venv/bin/python bench/chronology.py            # the figures
    .venv/bin/python bench/chronology.py --misses   # and every sentence it got wrong

The test set (tests/fixtures/chronology/sentences.yaml) holds sentences as families and
professionals say them, each with the dates a careful reader takes from it at their stated
precision. A date counts as right only if both the date and its precision match. Every date
produced for a sentence whose set is empty is a guess, and counts against precision.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from review.desk.chronology.resolve import resolve_text  # noqa: E402

TEST_SET = ROOT / "tests" / "fixtures" / "chronology" / "sentences.yaml"


@dataclass
class Score:
    sentences: int = 0
    gold: int = 0
    predicted: int = 0
    correct: int = 0
    guesses: int = 0  # dates produced where none may be given
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.gold if self.gold else 1.0


def predict(text: str) -> list[str]:
    return [
        f"{r.dated.normalised} {r.dated.precision}"
        for r in resolve_text(text)
        if r.dated is not None
    ]


def score(path: Path = TEST_SET) -> Score:
    result = Score()
    for case in yaml.safe_load(path.read_text(encoding="utf-8")):
        gold = Counter(str(d) for d in case["dates"])
        got = Counter(predict(case["text"]))
        hit = sum((gold & got).values())
        result.sentences += 1
        result.gold += sum(gold.values())
        result.predicted += sum(got.values())
        result.correct += hit
        if not gold:
            result.guesses += sum(got.values())
        if gold != got:
            result.misses.append(
                f"{case['text']}\n    expected {sorted(gold.elements())}\n"
                f"    got      {sorted(got.elements())}"
            )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list the sentences got wrong")
    args = parser.parse_args()
    result = score()
    print(
        f"sentences {result.sentences}, dates expected {result.gold}, produced {result.predicted}"
    )
    print(f"precision {result.precision:.3f}  recall {result.recall:.3f}  guesses {result.guesses}")
    if args.misses:
        for miss in result.misses:
            print(miss)


if __name__ == "__main__":
    main()
