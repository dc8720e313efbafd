-- Archive listings (section, tag and author pages, their feeds) read one index range instead of
-- sorting a section's whole archive by date: each link row carries its article's publication
-- time while the article is published (NULL otherwise), kept by triggers so that every path
-- that writes articles or links (saves, scheduled publishing, merges, imports) keeps it true.
ALTER TABLE article_sections ADD COLUMN listed_at BIGINT;
ALTER TABLE article_tags ADD COLUMN listed_at BIGINT;
ALTER TABLE article_authors ADD COLUMN listed_at BIGINT;

UPDATE article_sections SET listed_at =
    (SELECT CASE WHEN a.status = 'published' THEN a.published_at END FROM articles a WHERE a.id = article_id);
UPDATE article_tags SET listed_at =
    (SELECT CASE WHEN a.status = 'published' THEN a.published_at END FROM articles a WHERE a.id = article_id);
UPDATE article_authors SET listed_at =
    (SELECT CASE WHEN a.status = 'published' THEN a.published_at END FROM articles a WHERE a.id = article_id);

CREATE INDEX article_sections_listing ON article_sections (section_id, listed_at DESC, article_id DESC)
    WHERE listed_at IS NOT NULL;
CREATE INDEX article_tags_listing ON article_tags (tag_id, listed_at DESC, article_id DESC)
    WHERE listed_at IS NOT NULL;
CREATE INDEX article_authors_listing ON article_authors (author_id, listed_at DESC, article_id DESC)
    WHERE listed_at IS NOT NULL;

CREATE TRIGGER article_sections_listed AFTER INSERT ON article_sections BEGIN
    UPDATE article_sections SET listed_at =
        (SELECT CASE WHEN a.status = 'published' THEN a.published_at END FROM articles a WHERE a.id = NEW.article_id)
    WHERE article_id = NEW.article_id AND section_id = NEW.section_id;
END;
CREATE TRIGGER article_tags_listed AFTER INSERT ON article_tags BEGIN
    UPDATE article_tags SET listed_at =
        (SELECT CASE WHEN a.status = 'published' THEN a.published_at END FROM articles a WHERE a.id = NEW.article_id)
    WHERE article_id = NEW.article_id AND tag_id = NEW.tag_id;
END;
CREATE TRIGGER article_authors_listed AFTER INSERT ON article_authors BEGIN
    UPDATE article_authors SET listed_at =
        (SELECT CASE WHEN a.status = 'published' THEN a.published_at END FROM articles a WHERE a.id = NEW.article_id)
    WHERE article_id = NEW.article_id AND author_id = NEW.author_id;
END;
CREATE TRIGGER articles_listed AFTER UPDATE OF status, published_at ON articles
WHEN NEW.status IS NOT OLD.status OR NEW.published_at IS NOT OLD.published_at BEGIN
    UPDATE article_sections SET listed_at = CASE WHEN NEW.status = 'published' THEN NEW.published_at END
    WHERE article_id = NEW.id;
    UPDATE article_tags SET listed_at = CASE WHEN NEW.status = 'published' THEN NEW.published_at END
    WHERE article_id = NEW.id;
    UPDATE article_authors SET listed_at = CASE WHEN NEW.status = 'published' THEN NEW.published_at END
    WHERE article_id = NEW.id;
END;
