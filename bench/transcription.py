"""Benchmark the Whisper models on the speech clips (tests/fixtures/audio): speed, accuracy, RSS.

Each configuration (model × beam size × word timestamps) runs in a fresh child process, so its
peak RSS and load time are its own. Prints one table per configuration and a summary.

    .venv/bin/python bench/transcription.py --models base tiny.en --beams 5 1 --repeat 1

Figures: RTF = wall time / audio length (lower is faster); WER = word error rate after
lower-casing and stripping punctuation (jiwer); TTFS = time to first segment; the target is
wall ≤ 0.2 × length + 1.5 s on 2 cores (shared/BRIEF.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures import AUDIO_DIR  # noqa: E402  (the speech clips, committed in the repo)


def wer(reference: str | list[str], hypothesis: str | list[str]) -> float:
    """Word error rate; with lists, pooled over all their words (long clips weigh more)."""
    import jiwer

    norm = jiwer.Compose(
        [
            jiwer.ToLowerCase(),
            jiwer.SubstituteRegexes({r"[-\u2010-\u2014]": " "}),  # "ill-disposed": two words
            jiwer.RemovePunctuation(),
            jiwer.RemoveMultipleSpaces(),
            jiwer.Strip(),
            jiwer.ReduceToListOfListOfWords(),
        ]
    )
    return float(
        jiwer.wer(reference, hypothesis, reference_transform=norm, hypothesis_transform=norm)
    )


def run_child(args: argparse.Namespace) -> dict[str, Any]:
    """Load one configuration and transcribe every clip; returns figures as JSON-able data."""
    import psutil

    from transcription.audio import audio_seconds, decode_audio
    from transcription.engine import WhisperTranscriber
    from transcription.models import resolve_model

    proc = psutil.Process()
    rss_before = proc.memory_info().rss
    started = time.perf_counter()
    info = resolve_model(args.model, Path(args.data_dir))
    resolve_s = time.perf_counter() - started
    started = time.perf_counter()
    engine = WhisperTranscriber(
        info, cpu_threads=args.threads, beam_size=args.beam, word_timestamps=args.words
    )
    load_s = time.perf_counter() - started
    rss_loaded = proc.memory_info().rss
    clips = []
    for ogg in sorted(Path(args.clips).glob("*.ogg")):
        reference = ogg.with_suffix(".txt").read_text(encoding="utf-8")
        audio = decode_audio(ogg.read_bytes())
        walls, firsts, text = [], [], ""
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            first: list[float] = []
            result = engine.transcribe(
                audio,
                language=args.language,
                on_segment=lambda _s, t0=t0, first=first: (
                    first.append(time.perf_counter() - t0) if not first else None
                ),
            )
            walls.append(time.perf_counter() - t0)
            firsts.append(first[0] if first else float("nan"))
            text = result.text
        seconds = audio_seconds(audio)
        wall = statistics.median(walls)
        clips.append(
            {
                "clip": ogg.stem,
                "seconds": seconds,
                "wall": wall,
                "rtf": wall / seconds,
                "ttfs": statistics.median(firsts),
                "wer": wer(reference, text),
                "ref": reference,
                "hyp": text,
                "budget_ok": wall <= 0.2 * seconds + 1.5,
                "flags": list(result.flags),
            }
        )
    return {
        "model": info.id,
        "beam": args.beam,
        "words": args.words,
        "language": args.language,
        "resolve_s": resolve_s,
        "load_s": load_s,
        "rss_loaded_mb": rss_loaded / 2**20,
        "rss_model_mb": (rss_loaded - rss_before) / 2**20,
        "peak_rss_mb": proc.memory_info().rss / 2**20,
        "peak_hwm_mb": _peak_rss_mb(),
        "clips": clips,
    }


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def print_config(res: dict[str, Any]) -> None:
    words = "words" if res["words"] else "no-words"
    lang = res["language"] or "detect"
    print(f"\n== {res['model']}  beam={res['beam']}  {words}  language={lang}")
    print(
        f"   resolve {res['resolve_s']:.2f} s, load {res['load_s']:.2f} s, "
        f"RSS loaded {res['rss_loaded_mb']:.0f} MB, peak RSS {res['peak_hwm_mb']:.0f} MB"
    )
    print(f"   {'clip':<17}{'len s':>7}{'wall s':>8}{'RTF':>7}{'TTFS s':>8}{'WER':>7}  budget")
    for c in res["clips"]:
        ok = "ok" if c["budget_ok"] else "OVER"
        print(
            f"   {c['clip']:<17}{c['seconds']:7.1f}{c['wall']:8.2f}{c['rtf']:7.3f}"
            f"{c['ttfs']:8.2f}{c['wer']:7.3f}  {ok} {' '.join(c['flags'])}"
        )


def summary_rows(results: list[dict[str, Any]]) -> list[str]:
    head = (
        f"{'model':<22}{'beam':>5}{'words':>6}{'load s':>7}{'RSS MB':>7}"
        f"{'RTF med':>8}{'RTF 119s':>9}{'TTFS 119s':>10}"
        f"{'WER real':>9}{'WER tts':>8}{'WER all':>8}{'pooled real/tts':>16}"
    )
    rows = [head, "-" * len(head)]
    for res in results:
        clips = res["clips"]

        def med(key: str, prefix: str = "", clips: list[dict[str, Any]] = clips) -> float:
            values = [c[key] for c in clips if c["clip"].startswith(prefix)]
            return statistics.median(values) if values else float("nan")

        def pooled(prefix: str, clips: list[dict[str, Any]] = clips) -> float:
            chosen = [c for c in clips if c["clip"].startswith(prefix)]
            return wer([c["ref"] for c in chosen], [c["hyp"] for c in chosen])

        longest = max(clips, key=lambda c: c["seconds"])
        rows.append(
            f"{res['model']:<22}{res['beam']:>5}{'y' if res['words'] else 'n':>6}"
            f"{res['load_s']:7.2f}{res['peak_hwm_mb']:7.0f}{med('rtf'):8.3f}"
            f"{longest['rtf']:9.3f}{longest['ttfs']:10.2f}"
            f"{med('wer', 'real_'):9.3f}{med('wer', 'tts_'):8.3f}{med('wer'):8.3f}"
            f"{pooled('real_'):10.3f}/{pooled('tts_'):.3f}"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["base", "tiny.en"])
    parser.add_argument("--beams", nargs="+", type=int, default=[5])
    parser.add_argument("--words", choices=["on", "off", "both"], default="on")
    parser.add_argument("--clips", default=str(AUDIO_DIR))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--language", default=None, help="e.g. en; default: detect")
    parser.add_argument("--data-dir", default=None, help="where base is joined (default: temp)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--beam", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--words-on", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.words = args.words_on
        print(json.dumps(run_child(args)))
        return
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="casevoice-bench-")
    words = {"on": [True], "off": [False], "both": [True, False]}[args.words]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": str(args.threads)}
    print(f"clips: {args.clips}  repeat: {args.repeat}  threads: {args.threads}")
    results = []
    for model in args.models:
        for beam in args.beams:
            for w in words:
                cmd = [sys.executable, __file__, "--child", "--model", model, "--beam", str(beam)]
                cmd += ["--clips", args.clips, "--repeat", str(args.repeat)]
                cmd += ["--threads", str(args.threads), "--data-dir", data_dir]
                cmd += ["--words-on"] if w else []
                cmd += ["--language", args.language] if args.language else []
                out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
                res = json.loads(out.stdout.strip().splitlines()[-1])
                print_config(res)
                results.append(res)
    lang = args.language or "detected"
    print(f"\nSummary (language {lang}; medians over clips unless pooled; RSS = process peak)")
    print("\n".join(summary_rows(results)))


if __name__ == "__main__":
    main()
