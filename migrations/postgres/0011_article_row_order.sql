-- The lists of the front page, newest first, in the order the pages list them (publication
-- time, then id) straight from the index, and a card's own columns in the index entry
-- (`INCLUDE`), so the article's row, long texts and all, is not read for a card. (SQLite's
-- 0011 also moves the long texts to the end of the row; PostgreSQL keeps long values out of
-- line already.)
DROP INDEX articles_status_published;
DROP INDEX articles_section_published;
CREATE INDEX articles_status_published ON articles (status, published_at DESC, id DESC)
    INCLUDE (primary_section_id, slug, headline, standfirst, excerpt, featured_image_url, featured_image_alt,
             comment_count, created_at);
CREATE INDEX articles_section_published ON articles (primary_section_id, status, published_at DESC, id DESC)
    INCLUDE (slug, headline, standfirst, excerpt, featured_image_url, featured_image_alt, comment_count, created_at);
