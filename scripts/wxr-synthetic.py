#!/usr/bin/env python3
"""Writes a synthetic WordPress export (WXR 1.2) of about SIZE_MB megabytes, for showing that
`gazette import wordpress` streams: its memory does not grow with the file.

    python3 scripts/wxr-synthetic.py 1024 /tmp/big.xml
    /usr/bin/time -v target/release/gazette --data-dir /tmp/wxr-big import wordpress /tmp/big.xml

Deterministic; the words are made up (nothing is copied from anywhere)."""
import random
import sys

size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
out_path = sys.argv[2] if len(sys.argv) > 2 else "/tmp/synthetic-wxr.xml"
rng = random.Random(7)
syll = ["ba", "ce", "di", "fo", "gu", "ha", "ke", "li", "mo", "nu", "pa", "re", "si", "to", "vu", "la", "mer", "son"]
words = ["".join(rng.choice(syll) for _ in range(rng.randint(1, 4))) for _ in range(5000)]


def sentence():
    return " ".join(rng.choice(words) for _ in range(rng.randint(8, 20))).capitalize() + "."


head = """<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:wfw="http://wellformedweb.org/CommentAPI/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
<title>Synthetic</title><link>https://synthetic.example</link><description>Synthetic export</description>
<wp:wxr_version>1.2</wp:wxr_version><wp:base_site_url>https://synthetic.example</wp:base_site_url>
<wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[writer]]></wp:author_login><wp:author_display_name><![CDATA[A Writer]]></wp:author_display_name></wp:author>
<wp:category><wp:term_id>1</wp:term_id><wp:category_nicename><![CDATA[news]]></wp:category_nicename><wp:category_parent><![CDATA[]]></wp:category_parent><wp:cat_name><![CDATA[News]]></wp:cat_name></wp:category>
"""
limit = size_mb * 1024 * 1024
written = 0
with open(out_path, "w", encoding="utf-8") as out:
    out.write(head)
    i = 0
    while written < limit:
        i += 1
        body = "\n\n".join(" ".join(sentence() for _ in range(4)) for _ in range(rng.randint(8, 14)))
        comments = "".join(
            f"<wp:comment><wp:comment_id>{i * 10 + c}</wp:comment_id><wp:comment_author><![CDATA[Reader {c}]]></wp:comment_author>"
            f"<wp:comment_author_email>r{c}@example.com</wp:comment_author_email><wp:comment_date>2024-01-01 10:00:00</wp:comment_date>"
            f"<wp:comment_date_gmt>2024-01-01 10:00:00</wp:comment_date_gmt><wp:comment_content><![CDATA[{sentence()}]]></wp:comment_content>"
            f"<wp:comment_approved>1</wp:comment_approved><wp:comment_parent>{i * 10 + c - 1 if c else 0}</wp:comment_parent></wp:comment>"
            for c in range(rng.randint(0, 3))
        )
        item = (
            f"<item><title>{sentence()[:60]}</title><link>https://synthetic.example/?p={i}</link><dc:creator><![CDATA[writer]]></dc:creator>"
            f"<content:encoded><![CDATA[{body}]]></content:encoded><wp:post_id>{i}</wp:post_id>"
            f"<wp:post_date>2024-01-01 09:00:00</wp:post_date><wp:post_date_gmt>2024-01-01 09:00:00</wp:post_date_gmt>"
            f"<wp:post_name>post-{i}</wp:post_name><wp:status>publish</wp:status><wp:post_type>post</wp:post_type>"
            f'<category domain="category" nicename="news"><![CDATA[News]]></category>{comments}</item>\n'
        )
        out.write(item)
        written += len(item)
    out.write("</channel>\n</rss>\n")
print(f"wrote {i} posts, {written // (1024 * 1024)} MB, to {out_path}")
