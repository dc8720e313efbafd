#!/usr/bin/env python3
"""The table in docs/EXPORT.md: what each WordPress export holds against what Gazette imported.

    python3 scripts/wxr-report.py [GAZETTE_BINARY] [DIR]   # defaults: target/release/gazette, ../shared/data/wxr

For every .xml under DIR: the file's posts, pages, comments and attachments, counted with
Python's own XML parser (scripts/wxr-counts.py's rules), then `gazette import wordpress` into a
fresh temporary site, whose report gives what was imported and, line by line, what was not and
why. Prints one Markdown table row per file.
"""
import collections
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/gazette"
root_dir = sys.argv[2] if len(sys.argv) > 2 else "../shared/data/wxr"


def held(path):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        return None, f"not well-formed XML ({e.msg})"
    ns = next((e.tag[: -len("post_type")] for e in root.iter() if e.tag.endswith("}post_type")), None)
    items = collections.Counter()
    comments = 0
    for item in root.iter("item"):
        kind = item.findtext(f"{ns}post_type") if ns else None
        status = item.findtext(f"{ns}status") if ns else None
        items[(kind or "(none)", status or "")] += 1
        comments += len(item.findall(f"{ns}comment")) if ns else 0
    return (items, comments), None


def imported(path):
    with tempfile.TemporaryDirectory() as d:
        run = subprocess.run(
            [binary, "--data-dir", d, "import", "wordpress", path],
            capture_output=True, text=True, env={**os.environ, "GAZETTE_LOG": "error"},
        )
        shown = {}
        store = os.path.join(d, "gazette.db")
        if run.returncode == 0 and os.path.exists(store):
            db = sqlite3.connect(store)
            shown["published"] = db.execute("SELECT count(*) FROM articles WHERE status = 'published'").fetchone()[0]
            shown["comments"] = db.execute("SELECT count(*) FROM comments WHERE status = 'approved'").fetchone()[0]
            db.close()
    if run.returncode != 0:
        return None, run.stderr.strip().splitlines()[-1] if run.stderr.strip() else f"exit {run.returncode}"
    counts, skipped, problems = {}, [], []
    for line in run.stdout.splitlines():
        if m := re.match(r"\s+(\d+) skipped: (.*)", line):
            skipped.append(f"{m.group(1)} {m.group(2)}")
        elif m := re.match(r"\s+(\d+) (.*)", line):
            counts[m.group(2)] = int(m.group(1))
        elif m := re.match(r"\s+problem: (.*)", line):
            problems.append(m.group(1))
    return (counts, skipped, problems, shown), None


print("| export | posts in file (published) | articles imported (published) | pages | comments (approved, shown) | attachments | not imported, and why |")
print("|---|---|---|---|---|---|---|")
files = sorted(
    os.path.join(dp, f) for dp, _, fs in os.walk(root_dir) for f in fs if f.endswith(".xml")
)
for path in files:
    name = os.path.relpath(path, root_dir)
    h, err = held(path)
    g, gerr = imported(path)
    if g is None:
        file_side = "" if h is None else f"{sum(v for (k, _), v in h[0].items() if k == 'post')} posts"
        print(f"| {name} | {file_side or err} | refused: {gerr} | | | | the whole file, nothing written |")
        continue
    counts, skipped, problems, shown = g
    if h is None:
        posts = pages = comments = attachments = "?"
        published = "?"
        note = f" (Python: {err})"
    else:
        items, comments = h
        posts = sum(v for (k, _), v in items.items() if k == "post")
        published = items.get(("post", "publish"), 0)
        pages = sum(v for (k, s), v in items.items() if k == "page" and s == "publish")
        attachments = sum(v for (k, _), v in items.items() if k == "attachment")
        note = ""
    why = "; ".join(skipped + [f"damaged: {p}" for p in problems]) or "nothing"
    print(
        f"| {name}{note} | {posts} ({published}) | {counts.get('articles', 0)} ({shown.get('published', '?')}) "
        f"| {counts.get('pages', 0)} of {pages} | {counts.get('comments', 0)} of {comments} ({shown.get('comments', '?')}) "
        f"| {counts.get('attachments', 0)} of {attachments} | {why} |"
    )
