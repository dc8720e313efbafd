#!/usr/bin/env python3
"""The sceptic's related-posts baselines, in scikit-learn itself, scored like `gazette eval related`.

    python3 scripts/baseline-related.py --corpus C.jsonl --label story_id [--distractors D.jsonl] [--tau 30]

TF-IDF (TfidfVectorizer(sublinear_tf=True, stop_words="english")) over the headline twice and
the body; cosine alone, and cosine times 0.3 + 0.7 * exp(-|days apart| / tau) (0.5 when either
date is missing). For each corpus article with R > 0 others of its label (distractors are never
relevant, and are not scored), the top six: P@6 is the share of relevant among the first
min(6, R), nDCG@6 with binary gains, MRR within the six. Needs scikit-learn (`pip install
scikit-learn`); the corpora are read at run time from ../shared/data, never copied.
"""
import argparse
import json
import math
from datetime import datetime

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer


def read(path, distractor):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            title, body = r.get("title") or "", r.get("body") or r.get("text") or ""
            if not title.strip() or not body.strip():
                continue  # `gazette import jsonl` skips these too
            day = None
            if r.get("published"):
                day = datetime.fromisoformat(str(r["published"])[:19]).timestamp() / 86400.0
            out.append((title, body, day, None if distractor else r.get(ARGS.label)))
    return out


def score(top, relevant):
    k = min(6, len(relevant))
    hits = sum(1 for d in top[:k] if d in relevant)
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(top[:6]) if d in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(6, len(relevant))))
    rr = next((1 / (i + 1) for i, d in enumerate(top[:6]) if d in relevant), 0.0)
    return hits / k, dcg / ideal, rr


parser = argparse.ArgumentParser()
parser.add_argument("--corpus", required=True)
parser.add_argument("--label", default="story_id")
parser.add_argument("--distractors")
parser.add_argument("--tau", type=float, default=30.0)
ARGS = parser.parse_args()

docs = read(ARGS.corpus, False) + (read(ARGS.distractors, True) if ARGS.distractors else [])
matrix = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform(
    [f"{t} {t} {b}" for t, b, _, _ in docs]
)
days = np.array([np.nan if d is None else d for _, _, d, _ in docs])
labels = [lab for _, _, _, lab in docs]
by_label = {}
for i, lab in enumerate(labels):
    if lab is not None:
        by_label.setdefault(lab, set()).add(i)

totals = {"TF-IDF cosine (sklearn)": [0, 0, 0], f"TF-IDF x time decay, tau {ARGS.tau:g} (sklearn)": [0, 0, 0]}
scored = 0
for i, lab in enumerate(labels):
    if lab is None:
        continue
    relevant = by_label[lab] - {i}
    if not relevant:
        continue
    scored += 1
    sims = (matrix @ matrix[i].T).toarray().ravel()
    sims[i] = -1
    gap = np.abs(days - days[i])
    decay = np.where(np.isnan(gap), 0.5, 0.3 + 0.7 * np.exp(-gap / ARGS.tau))
    for name, s in zip(totals, [sims, np.where(sims < 0, -1, sims * decay)]):
        top = list(np.argsort(-s, kind="stable")[:6])
        for j, v in enumerate(score(top, relevant)):
            totals[name][j] += v

print(f"| system | P@6 | nDCG@6 | MRR | articles scored |\n|---|---|---|---|---|")
for name, (p, n, rr) in totals.items():
    print(f"| {name} | {p / scored:.3f} | {n / scored:.3f} | {rr / scored:.3f} | {scored} |")
