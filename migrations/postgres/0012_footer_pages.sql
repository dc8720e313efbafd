-- Which static pages the site's footer links (1 or 0). Before, every published page was linked:
-- an imported site with hundreds of pages put hundreds of links on every page. Existing sites
-- keep the links they had, up to twelve pages (the oldest first); staff choose the rest.
ALTER TABLE pages ADD COLUMN in_footer BIGINT NOT NULL DEFAULT 0;
UPDATE pages SET in_footer = 1
WHERE id IN (SELECT id FROM pages WHERE status = 'published' ORDER BY id LIMIT 12);
