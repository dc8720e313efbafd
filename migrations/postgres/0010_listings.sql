-- Archive listings (section, tag and author pages, their feeds) read one index range instead of
-- sorting a section's whole archive by date: each link row carries its article's publication
-- time while the article is published (NULL otherwise), kept by triggers so that every path
-- that writes articles or links (saves, scheduled publishing, merges, imports) keeps it true.
ALTER TABLE article_sections ADD COLUMN listed_at BIGINT;
ALTER TABLE article_tags ADD COLUMN listed_at BIGINT;
ALTER TABLE article_authors ADD COLUMN listed_at BIGINT;

UPDATE article_sections x SET listed_at = CASE WHEN a.status = 'published' THEN a.published_at END
    FROM articles a WHERE a.id = x.article_id;
UPDATE article_tags x SET listed_at = CASE WHEN a.status = 'published' THEN a.published_at END
    FROM articles a WHERE a.id = x.article_id;
UPDATE article_authors x SET listed_at = CASE WHEN a.status = 'published' THEN a.published_at END
    FROM articles a WHERE a.id = x.article_id;

CREATE INDEX article_sections_listing ON article_sections (section_id, listed_at DESC, article_id DESC)
    WHERE listed_at IS NOT NULL;
CREATE INDEX article_tags_listing ON article_tags (tag_id, listed_at DESC, article_id DESC)
    WHERE listed_at IS NOT NULL;
CREATE INDEX article_authors_listing ON article_authors (author_id, listed_at DESC, article_id DESC)
    WHERE listed_at IS NOT NULL;

CREATE FUNCTION gazette_link_listed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.listed_at := (SELECT CASE WHEN a.status = 'published' THEN a.published_at END
                      FROM articles a WHERE a.id = NEW.article_id);
    RETURN NEW;
END
$$;
CREATE TRIGGER article_sections_listed BEFORE INSERT ON article_sections
    FOR EACH ROW EXECUTE FUNCTION gazette_link_listed();
CREATE TRIGGER article_tags_listed BEFORE INSERT ON article_tags
    FOR EACH ROW EXECUTE FUNCTION gazette_link_listed();
CREATE TRIGGER article_authors_listed BEFORE INSERT ON article_authors
    FOR EACH ROW EXECUTE FUNCTION gazette_link_listed();

CREATE FUNCTION gazette_article_listed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    listed BIGINT := CASE WHEN NEW.status = 'published' THEN NEW.published_at END;
BEGIN
    UPDATE article_sections SET listed_at = listed WHERE article_id = NEW.id;
    UPDATE article_tags SET listed_at = listed WHERE article_id = NEW.id;
    UPDATE article_authors SET listed_at = listed WHERE article_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER articles_listed AFTER UPDATE OF status, published_at ON articles
    FOR EACH ROW WHEN (NEW.status IS DISTINCT FROM OLD.status OR NEW.published_at IS DISTINCT FROM OLD.published_at)
    EXECUTE FUNCTION gazette_article_listed();
