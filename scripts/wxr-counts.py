#!/usr/bin/env python3
"""What a WordPress export holds, counted independently of Gazette (for docs/EXPORT.md).

    python3 scripts/wxr-counts.py FILE.xml [...]

Prints, per file, items by post type and status, and comments by type and approval, read
with Python's own XML parser (a file it cannot parse is reported as such).
"""
import collections
import sys
import xml.etree.ElementTree as ET

def count(path):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        return f"not well-formed XML ({e})"
    # The namespace of the wp: elements (http or https, WXR 1.0-1.2).
    ns = next((e.tag[: -len("post_type")] for e in root.iter() if e.tag.endswith("}post_type")), None)
    if ns is None:
        return "no WXR items"
    items = collections.Counter()
    comments = collections.Counter()
    for item in root.iter("item"):
        kind = item.findtext(f"{ns}post_type") or "?"
        status = item.findtext(f"{ns}status") or "?"
        items[(kind, status)] += 1
        for c in item.findall(f"{ns}comment"):
            ctype = c.findtext(f"{ns}comment_type") or "comment"
            approved = c.findtext(f"{ns}comment_approved") or "?"
            comments[(ctype, approved)] += 1
    parts = [", ".join(f"{k}/{s} {n}" for (k, s), n in sorted(items.items()))]
    parts.append("comments " + (", ".join(f"{t}/{a} {n}" for (t, a), n in sorted(comments.items())) or "none"))
    return "; ".join(parts)


for path in sys.argv[1:]:
    print(f"{path}: {count(path)}")
