#!/usr/bin/env python3
"""Writes the comments of a WordPress export (WXR) as a labelled JSON Lines corpus for
`gazette eval spam --test`: approved comments are labelled not spam, comments the site marked
spam are labelled spam; pingbacks, trackbacks and comments awaiting moderation are left out.
Prints the site's host, for `--site-host`.

    python3 scripts/wxr-comments.py EXPORT.xml OUT.jsonl
"""
import json
import sys
import xml.etree.ElementTree as ET
from urllib.parse import urlparse

WP = "{http://wordpress.org/export/1.2/}"


def main(src, out):
    root = ET.parse(src).getroot()
    channel = root.find("channel")
    ns = WP
    if channel.find(f"{ns}base_site_url") is None:
        for version in ("1.1", "1.0"):
            candidate = "{http://wordpress.org/export/%s/}" % version
            if channel.find(f"{candidate}base_site_url") is not None:
                ns = candidate
    link = channel.findtext("link") or channel.findtext(f"{ns}base_blog_url") or ""
    kept = {"ham": 0, "spam": 0}
    with open(out, "w", encoding="utf-8") as f:
        for item in channel.iter("item"):
            for c in item.findall(f"{ns}comment"):
                kind = (c.findtext(f"{ns}comment_type") or "").strip()
                state = (c.findtext(f"{ns}comment_approved") or "").strip()
                if kind not in ("", "comment") or state not in ("1", "spam"):
                    continue
                spam = state == "spam"
                kept["spam" if spam else "ham"] += 1
                f.write(json.dumps({
                    "id": c.findtext(f"{ns}comment_id"),
                    "author": c.findtext(f"{ns}comment_author") or "",
                    "text": c.findtext(f"{ns}comment_content") or "",
                    "label": 1 if spam else 0,
                }, ensure_ascii=False) + "\n")
    print(f"{urlparse(link).hostname or ''}\t{kept['ham']} approved\t{kept['spam']} spam", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
