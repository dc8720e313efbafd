//! `gazette export json` and `gazette import json`: a complete dump of a site as JSON Lines, the
//! backup path for either database and the way to move a site from SQLite to PostgreSQL.
//! The format is documented in docs/EXPORT.md. Records refer to each other by slug or e-mail,
//! never by database id, so a dump loads into any store.
//!
//! Export reads articles in pages, so memory does not grow with the archive. Import runs in one
//! transaction: a damaged file changes nothing, and the error names its line.

use std::collections::HashMap;
use std::io::{BufRead, Write};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::storage::events::{self, EventKind};
use crate::storage::{Db, Tx, fetch_all_with_ids, placeholders};
use crate::{fetch_all, fetch_one, tx_exec, tx_fetch};

pub const FORMAT: &str = "gazette-export";
pub const VERSION: u32 = 1;
const PAGE: i64 = 500;

/// A page in a dump made before the footer was chosen page by page was linked there.
fn linked() -> bool {
    true
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    Header {
        format: String,
        version: u32,
    },
    Setting {
        key: String,
        value: String,
    },
    Author {
        slug: String,
        name: String,
        bio: String,
        photo_url: Option<String>,
        created_at: i64,
    },
    Section {
        slug: String,
        name: String,
        description: String,
        parent: Option<String>,
        position: i64,
    },
    Tag {
        slug: String,
        name: String,
    },
    User {
        email: String,
        name: String,
        role: String,
        password_hash: String,
        author: Option<String>,
        created_at: i64,
    },
    Article(Box<ArticleRecord>),
    Revision {
        article: String,
        user: Option<String>,
        slug: String,
        headline: String,
        standfirst: String,
        body_source: String,
        status: String,
        created_at: i64,
    },
    SlugHistory {
        old_slug: String,
        article: String,
        created_at: i64,
    },
    Page {
        slug: String,
        title: String,
        body_source: String,
        body_html: String,
        status: String,
        updated_at: i64,
        /// Linked in the footer; dumps made before the choice existed linked every page.
        #[serde(default = "linked")]
        in_footer: bool,
    },
    Comment(Box<CommentRecord>),
    /// What the spam filter learned from moderators.
    SpamToken {
        token: String,
        spam: i64,
        ham: i64,
    },
    /// An editor's pin (`kind` "pin", shown first in `position` order) or exclusion of one
    /// related article.
    RelatedChoice {
        article: String,
        related: String,
        kind: String,
        position: i64,
    },
    /// An old address (an imported site's permalink or `/?p=ID`) that answers with a 301.
    Redirect {
        path: String,
        article: String,
    },
    /// An attachment of an imported site, by its original address.
    Attachment {
        external_id: String,
        url: String,
        title: String,
        article: Option<String>,
        created_at: i64,
    },
    /// A remote image and its local copy under DATA_DIR/media (the files are copied with
    /// the data directory, not in this file).
    RemoteMedia {
        url: String,
        local_name: Option<String>,
        error: Option<String>,
        attempts: i64,
        fetched_at: Option<i64>,
    },
}

/// A comment. `key` names it within the file (replies point to their parent's key); the
/// HTML is made again from `body` on import.
#[derive(Debug, Serialize, Deserialize, PartialEq, sqlx::FromRow)]
pub struct CommentRecord {
    pub key: String,
    pub article: String,
    pub parent: Option<String>,
    pub author_name: String,
    pub author_email: String,
    pub author_url: String,
    pub body: String,
    pub status: String,
    /// The staff member who wrote it (e-mail), for staff replies.
    pub staff: Option<String>,
    pub client_addr: String,
    pub user_agent: String,
    pub spam_score: f64,
    pub hold_reason: String,
    pub learned_as: String,
    pub external_id: Option<String>,
    pub created_at: i64,
    pub status_changed_at: i64,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, sqlx::FromRow)]
pub struct ArticleRecord {
    #[serde(skip)]
    #[sqlx(rename = "id")]
    pub id: i64,
    pub external_id: Option<String>,
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    pub body_source: String,
    pub body_html: String,
    pub body_text: String,
    pub excerpt: String,
    pub word_count: i64,
    pub status: String,
    pub primary_section: String,
    #[sqlx(skip)]
    pub sections: Vec<String>,
    #[sqlx(skip)]
    pub authors: Vec<String>,
    #[sqlx(skip)]
    pub tags: Vec<String>,
    pub featured_image_url: Option<String>,
    pub featured_image_alt: Option<String>,
    pub featured_image_caption: Option<String>,
    pub featured_image_credit: Option<String>,
    pub comment_status: String,
    pub published_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub created_by: Option<String>,
    pub version: i64,
    pub correction: String,
    pub corrected_at: Option<i64>,
    /// 1 when it leads the front page (absent in dumps written before sticky articles).
    #[serde(default)]
    pub sticky: i64,
}

#[derive(sqlx::FromRow)]
struct Link {
    article_id: i64,
    slug: String,
}

fn line(out: &mut impl Write, record: &Record) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, record)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Writes the whole site as JSON Lines. Returns how many records were written.
pub async fn export(db: &Db, out: &mut impl Write) -> anyhow::Result<usize> {
    let mut n = 0;
    let mut emit = |out: &mut dyn Write, r: Record| -> anyhow::Result<()> {
        let mut w = out;
        line(&mut w, &r)?;
        n += 1;
        Ok(())
    };
    emit(out, Record::Header { format: FORMAT.into(), version: VERSION })?;
    for (key, value) in fetch_all!(
        db,
        (String, String),
        "SELECT key, value FROM settings WHERE key NOT LIKE 'secret.%' ORDER BY key"
    )? {
        emit(out, Record::Setting { key, value })?;
    }
    for (slug, name, bio, photo_url, created_at) in fetch_all!(
        db,
        (String, String, String, Option<String>, i64),
        "SELECT slug, name, bio, photo_url, created_at FROM authors ORDER BY slug"
    )? {
        emit(out, Record::Author { slug, name, bio, photo_url, created_at })?;
    }
    for (slug, name, description, parent, position) in fetch_all!(
        db,
        (String, String, String, Option<String>, i64),
        "SELECT s.slug, s.name, s.description, p.slug, s.position FROM sections s \
         LEFT JOIN sections p ON p.id = s.parent_id ORDER BY s.position, s.slug"
    )? {
        emit(out, Record::Section { slug, name, description, parent, position })?;
    }
    for (slug, name) in fetch_all!(db, (String, String), "SELECT slug, name FROM tags ORDER BY slug")? {
        emit(out, Record::Tag { slug, name })?;
    }
    for (email, name, role, password_hash, author, created_at) in fetch_all!(
        db,
        (String, String, String, String, Option<String>, i64),
        "SELECT u.email, u.name, u.role, u.password_hash, a.slug, u.created_at FROM users u \
         LEFT JOIN authors a ON a.id = u.author_id ORDER BY u.email"
    )? {
        emit(out, Record::User { email, name, role, password_hash, author, created_at })?;
    }
    let mut offset = 0;
    loop {
        let mut page = fetch_all!(
            db,
            ArticleRecord,
            "SELECT a.id, a.external_id, a.slug, a.headline, a.standfirst, a.body_source, a.body_html, a.body_text, \
             a.excerpt, a.word_count, a.status, s.slug AS primary_section, a.featured_image_url, a.featured_image_alt, \
             a.featured_image_caption, a.featured_image_credit, a.comment_status, a.published_at, a.created_at, \
             a.updated_at, u.email AS created_by, a.version, a.correction, a.corrected_at, a.sticky \
             FROM articles a JOIN sections s ON s.id = a.primary_section_id LEFT JOIN users u ON u.id = a.created_by \
             ORDER BY a.id LIMIT $1 OFFSET $2",
            PAGE,
            offset
        )?;
        if page.is_empty() {
            break;
        }
        let ids: Vec<i64> = page.iter().map(|a| a.id).collect();
        let list = placeholders(0, ids.len());
        let links = |table: &str, join: &str| {
            format!(
                "SELECT x.article_id, t.slug FROM {table} x JOIN {join} t ON t.id = x.{fk} \
                 WHERE x.article_id IN ({list}) ORDER BY x.article_id, x.position",
                fk = match table {
                    "article_sections" => "section_id",
                    "article_authors" => "author_id",
                    _ => "tag_id",
                }
            )
        };
        let sections: Vec<Link> = fetch_all_with_ids(db, links("article_sections", "sections"), &ids).await?;
        let authors: Vec<Link> = fetch_all_with_ids(db, links("article_authors", "authors"), &ids).await?;
        let tags: Vec<Link> = fetch_all_with_ids(db, links("article_tags", "tags"), &ids).await?;
        for a in &mut page {
            a.sections = sections.iter().filter(|l| l.article_id == a.id).map(|l| l.slug.clone()).collect();
            a.authors = authors.iter().filter(|l| l.article_id == a.id).map(|l| l.slug.clone()).collect();
            a.tags = tags.iter().filter(|l| l.article_id == a.id).map(|l| l.slug.clone()).collect();
        }
        offset += page.len() as i64;
        for a in page {
            emit(out, Record::Article(Box::new(a)))?;
        }
    }
    for (article, user, slug, headline, standfirst, body_source, status, created_at) in fetch_all!(
        db,
        (String, Option<String>, String, String, String, String, String, i64),
        "SELECT a.slug, u.email, r.slug, r.headline, r.standfirst, r.body_source, r.status, r.created_at \
         FROM article_revisions r JOIN articles a ON a.id = r.article_id LEFT JOIN users u ON u.id = r.user_id \
         ORDER BY r.id"
    )? {
        emit(
            out,
            Record::Revision { article, user, slug, headline, standfirst, body_source, status, created_at },
        )?;
    }
    for (old_slug, article, created_at) in fetch_all!(
        db,
        (String, String, i64),
        "SELECT h.old_slug, a.slug, h.created_at FROM slug_history h JOIN articles a ON a.id = h.article_id ORDER BY h.old_slug"
    )? {
        emit(out, Record::SlugHistory { old_slug, article, created_at })?;
    }
    for (slug, title, body_source, body_html, status, updated_at, in_footer) in fetch_all!(
        db,
        (String, String, String, String, String, i64, i64),
        "SELECT slug, title, body_source, body_html, status, updated_at, in_footer FROM pages ORDER BY slug"
    )? {
        emit(
            out,
            Record::Page {
                slug,
                title,
                body_source,
                body_html,
                status,
                updated_at,
                in_footer: in_footer == 1,
            },
        )?;
    }
    let mut after = 0;
    loop {
        let page = fetch_all!(
            db,
            CommentRecord,
            "SELECT 'c' || CAST(c.id AS TEXT) AS key, a.slug AS article,                CASE WHEN c.parent_id IS NULL THEN NULL ELSE 'c' || CAST(c.parent_id AS TEXT) END AS parent,                c.author_name, c.author_email, c.author_url, c.body, c.status, u.email AS staff, c.client_addr,                c.user_agent, c.spam_score, c.hold_reason, c.learned_as, c.external_id, c.created_at,                c.status_changed_at              FROM comments c JOIN articles a ON a.id = c.article_id LEFT JOIN users u ON u.id = c.staff_user_id              WHERE c.id > $1 ORDER BY c.id LIMIT $2",
            after,
            PAGE
        )?;
        let Some(last) = page.last() else { break };
        after = last.key[1..].parse()?;
        for c in page {
            emit(out, Record::Comment(Box::new(c)))?;
        }
    }
    for (token, spam, ham) in
        fetch_all!(db, (String, i64, i64), "SELECT token, spam, ham FROM spam_tokens ORDER BY token")?
    {
        emit(out, Record::SpamToken { token, spam, ham })?;
    }
    for (article, related, kind, position) in fetch_all!(
        db,
        (String, String, String, i64),
        "SELECT a.slug, r.slug, o.kind, o.position FROM related_overrides o \
         JOIN articles a ON a.id = o.article_id JOIN articles r ON r.id = o.related_id \
         ORDER BY a.slug, o.position, r.slug"
    )? {
        emit(out, Record::RelatedChoice { article, related, kind, position })?;
    }
    for (path, article) in fetch_all!(
        db,
        (String, String),
        "SELECT r.path, a.slug FROM redirects r JOIN articles a ON a.id = r.article_id ORDER BY r.path"
    )? {
        emit(out, Record::Redirect { path, article })?;
    }
    for (external_id, url, title, article, created_at) in fetch_all!(
        db,
        (String, String, String, Option<String>, i64),
        "SELECT t.external_id, t.url, t.title, a.slug, t.created_at FROM attachments t \
         LEFT JOIN articles a ON a.id = t.article_id ORDER BY t.external_id"
    )? {
        emit(out, Record::Attachment { external_id, url, title, article, created_at })?;
    }
    for (url, local_name, error, attempts, fetched_at) in fetch_all!(
        db,
        (String, Option<String>, Option<String>, i64, Option<i64>),
        "SELECT url, local_name, error, attempts, fetched_at FROM remote_media ORDER BY url"
    )? {
        emit(out, Record::RemoteMedia { url, local_name, error, attempts, fetched_at })?;
    }
    out.flush()?;
    Ok(n)
}

/// What an import loaded.
#[derive(Debug, Default)]
pub struct Report {
    pub counts: HashMap<&'static str, usize>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts: Vec<_> = self.counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
        parts.sort();
        write!(f, "imported {}", parts.join(", "))
    }
}

/// Loads a dump into an empty store, in one transaction.
pub async fn import(db: &Db, input: impl BufRead) -> anyhow::Result<Report> {
    let (existing,) = fetch_one!(
        db,
        (i64,),
        "SELECT (SELECT COUNT(*) FROM articles) + (SELECT COUNT(*) FROM sections) + (SELECT COUNT(*) FROM users)"
    )?;
    if existing > 0 {
        bail!("import json loads into an empty store; this one already has content (it does not merge)");
    }
    let mut tx = db.begin().await?;
    let mut report = Report::default();
    let mut ids: HashMap<(&'static str, String), i64> = HashMap::new();
    let mut parents: Vec<(String, String)> = Vec::new();
    let mut saw_header = false;
    for (n, line) in input.lines().enumerate() {
        let number = n + 1;
        let line = line.with_context(|| format!("line {number}: cannot read"))?;
        if line.trim().is_empty() {
            continue;
        }
        let record: Record = serde_json::from_str(&line)
            .with_context(|| format!("line {number}: not a Gazette export record"))?;
        if !saw_header {
            match &record {
                Record::Header { format, version } if format == FORMAT && *version == VERSION => {
                    saw_header = true
                }
                Record::Header { format, version } => {
                    bail!(
                        "line {number}: unsupported export {format:?} version {version} (this Gazette reads version {VERSION})"
                    )
                }
                _ => bail!("line {number}: the file does not start with a Gazette export header"),
            }
            continue;
        }
        let kind =
            load(&mut tx, &mut ids, &mut parents, record).await.with_context(|| format!("line {number}"))?;
        *report.counts.entry(kind).or_default() += 1;
    }
    if !saw_header {
        bail!("the file is empty: no Gazette export header");
    }
    for (child, parent) in parents {
        let parent_id = *ids
            .get(&("section", parent.clone()))
            .with_context(|| format!("unknown parent section {parent:?}"))?;
        tx_exec!(&mut tx, "UPDATE sections SET parent_id = $1 WHERE slug = $2", parent_id, &child)?;
    }
    tx_exec!(
        &mut tx,
        "UPDATE articles SET comment_count = \
           (SELECT count(*) FROM comments c WHERE c.article_id = articles.id AND c.status = 'approved')"
    )?;
    events::record(&mut tx, EventKind::SettingsChanged, 0).await?;
    tx.commit().await?;
    Ok(report)
}

fn id_of(ids: &HashMap<(&'static str, String), i64>, kind: &'static str, key: &str) -> anyhow::Result<i64> {
    ids.get(&(kind, key.to_owned())).copied().with_context(|| format!("refers to an unknown {kind} {key:?}"))
}

async fn load(
    tx: &mut Tx,
    ids: &mut HashMap<(&'static str, String), i64>,
    parents: &mut Vec<(String, String)>,
    record: Record,
) -> anyhow::Result<&'static str> {
    Ok(match record {
        Record::Header { .. } => bail!("a second header"),
        Record::Setting { key, value } => {
            tx_exec!(tx, "INSERT INTO settings (key, value) VALUES ($1, $2)", &key, &value)?;
            "settings"
        }
        Record::Author { slug, name, bio, photo_url, created_at } => {
            let (id,) = tx_fetch!(
                fetch_one,
                tx,
                (i64,),
                "INSERT INTO authors (slug, name, bio, photo_url, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &slug,
                &name,
                &bio,
                photo_url.as_deref(),
                created_at
            )?;
            ids.insert(("author", slug), id);
            "authors"
        }
        Record::Section { slug, name, description, parent, position } => {
            let (id,) = tx_fetch!(
                fetch_one,
                tx,
                (i64,),
                "INSERT INTO sections (slug, name, description, position) VALUES ($1, $2, $3, $4) RETURNING id",
                &slug,
                &name,
                &description,
                position
            )?;
            if let Some(parent) = parent {
                parents.push((slug.clone(), parent));
            }
            ids.insert(("section", slug), id);
            "sections"
        }
        Record::Tag { slug, name } => {
            let (id,) = tx_fetch!(
                fetch_one,
                tx,
                (i64,),
                "INSERT INTO tags (slug, name) VALUES ($1, $2) RETURNING id",
                &slug,
                &name
            )?;
            ids.insert(("tag", slug), id);
            "tags"
        }
        Record::User { email, name, role, password_hash, author, created_at } => {
            role.parse::<crate::domain::Role>().map_err(anyhow::Error::msg)?;
            let author_id = author.as_deref().map(|a| id_of(ids, "author", a)).transpose()?;
            let (id,) = tx_fetch!(
                fetch_one,
                tx,
                (i64,),
                "INSERT INTO users (email, name, role, password_hash, author_id, created_at, password_changed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
                &email,
                &name,
                &role,
                &password_hash,
                author_id,
                created_at
            )?;
            ids.insert(("user", email), id);
            "users"
        }
        Record::Article(a) => {
            a.status.parse::<crate::domain::ArticleStatus>().map_err(anyhow::Error::msg)?;
            let primary = id_of(ids, "section", &a.primary_section)?;
            let created_by = a.created_by.as_deref().map(|u| id_of(ids, "user", u)).transpose()?;
            // Sanitized again (a dump is input like any other), and the text taken from that
            // HTML: a dump's own text may be empty or stale (dumps of stores written before the
            // text came from the HTML had none for WordPress bodies).
            use crate::domain::markdown::{Rendered, sanitize_html};
            let body = Rendered::from_html(sanitize_html(&a.body_html));
            let excerpt = body.excerpt_or(&a.excerpt);
            let (id,) = tx_fetch!(
                fetch_one,
                tx,
                (i64,),
                "INSERT INTO articles (external_id, slug, headline, standfirst, body_source, body_html, body_text, \
                   excerpt, word_count, status, primary_section_id, featured_image_url, featured_image_alt, \
                   featured_image_caption, featured_image_credit, comment_status, published_at, created_at, \
                   updated_at, created_by, version, correction, corrected_at, sticky) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
                   $21, $22, $23, $24) RETURNING id",
                a.external_id.as_deref(),
                &a.slug,
                &a.headline,
                &a.standfirst,
                &a.body_source,
                &body.html,
                &body.text,
                &excerpt,
                body.word_count,
                &a.status,
                primary,
                a.featured_image_url.as_deref(),
                a.featured_image_alt.as_deref(),
                a.featured_image_caption.as_deref(),
                a.featured_image_credit.as_deref(),
                &a.comment_status,
                a.published_at,
                a.created_at,
                a.updated_at,
                created_by,
                a.version,
                &a.correction,
                a.corrected_at,
                i64::from(a.sticky != 0)
            )?;
            for (position, slug) in a.sections.iter().enumerate() {
                let section = id_of(ids, "section", slug)?;
                tx_exec!(
                    tx,
                    "INSERT INTO article_sections (article_id, section_id, position) VALUES ($1, $2, $3)",
                    id,
                    section,
                    position as i64
                )?;
            }
            for (position, slug) in a.authors.iter().enumerate() {
                let author = id_of(ids, "author", slug)?;
                tx_exec!(
                    tx,
                    "INSERT INTO article_authors (article_id, author_id, position) VALUES ($1, $2, $3)",
                    id,
                    author,
                    position as i64
                )?;
            }
            for (position, slug) in a.tags.iter().enumerate() {
                let tag = id_of(ids, "tag", slug)?;
                tx_exec!(
                    tx,
                    "INSERT INTO article_tags (article_id, tag_id, position) VALUES ($1, $2, $3)",
                    id,
                    tag,
                    position as i64
                )?;
            }
            if a.status == "published" {
                events::record(tx, EventKind::ArticlePublished, id).await?;
            }
            ids.insert(("article", a.slug.clone()), id);
            "articles"
        }
        Record::Revision { article, user, slug, headline, standfirst, body_source, status, created_at } => {
            let article_id = id_of(ids, "article", &article)?;
            let user_id = user.as_deref().map(|u| id_of(ids, "user", u)).transpose()?;
            tx_exec!(
                tx,
                "INSERT INTO article_revisions (article_id, user_id, slug, headline, standfirst, body_source, status, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                article_id,
                user_id,
                &slug,
                &headline,
                &standfirst,
                &body_source,
                &status,
                created_at
            )?;
            "revisions"
        }
        Record::SlugHistory { old_slug, article, created_at } => {
            let article_id = id_of(ids, "article", &article)?;
            tx_exec!(
                tx,
                "INSERT INTO slug_history (old_slug, article_id, created_at) VALUES ($1, $2, $3)",
                &old_slug,
                article_id,
                created_at
            )?;
            "old slugs"
        }
        Record::Page { slug, title, body_source, body_html, status, updated_at, in_footer } => {
            tx_exec!(
                tx,
                "INSERT INTO pages (slug, title, body_source, body_html, status, updated_at, in_footer) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &slug,
                &title,
                &body_source,
                crate::domain::markdown::sanitize_html(&body_html),
                &status,
                updated_at,
                i64::from(in_footer)
            )?;
            "pages"
        }
        Record::Comment(c) => {
            crate::domain::comment::CommentState::parse(&c.status)
                .with_context(|| format!("unknown comment state {:?}", c.status))?;
            let article_id = id_of(ids, "article", &c.article)?;
            let staff = c.staff.as_deref().map(|u| id_of(ids, "user", u)).transpose()?;
            let parent = match c.parent.as_deref() {
                None => None,
                Some(key) => {
                    let pid = id_of(ids, "comment", key)?;
                    let (thread, depth) = tx_fetch!(
                        fetch_one,
                        tx,
                        (Option<i64>, i64),
                        "SELECT thread_id, depth FROM comments WHERE id = $1",
                        pid
                    )?;
                    Some((pid, thread.unwrap_or(pid), depth + 1))
                }
            };
            // What commenters typed is input like any other: cleaned and rendered again.
            let body = crate::domain::comment::clean_text(&c.body);
            let (id,) = tx_fetch!(
                fetch_one,
                tx,
                (i64,),
                "INSERT INTO comments (article_id, parent_id, thread_id, depth, author_name, author_email, author_url, \
                   body, body_html, status, staff_user_id, client_addr, user_agent, spam_score, hold_reason, \
                   learned_as, external_id, created_at, status_changed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
                 RETURNING id",
                article_id,
                parent.map(|p| p.0),
                parent.map(|p| p.1),
                parent.map_or(0, |p| p.2),
                crate::domain::comment::clean_line(&c.author_name),
                &c.author_email,
                if crate::domain::comment::is_web_url(&c.author_url) { c.author_url.as_str() } else { "" },
                &body,
                crate::domain::comment::render(&body),
                &c.status,
                staff,
                &c.client_addr,
                &c.user_agent,
                c.spam_score,
                &c.hold_reason,
                &c.learned_as,
                c.external_id.as_deref(),
                c.created_at,
                c.status_changed_at
            )?;
            ids.insert(("comment", c.key.clone()), id);
            "comments"
        }
        Record::SpamToken { token, spam, ham } => {
            tx_exec!(
                tx,
                "INSERT INTO spam_tokens (token, spam, ham) VALUES ($1, $2, $3)",
                &token,
                spam,
                ham
            )?;
            "spam filter words"
        }
        Record::RelatedChoice { article, related, kind, position } => {
            if kind != "pin" && kind != "exclude" {
                bail!("a related choice is \"pin\" or \"exclude\", not {kind:?}");
            }
            tx_exec!(
                tx,
                "INSERT INTO related_overrides (article_id, related_id, kind, position) VALUES ($1, $2, $3, $4)",
                id_of(ids, "article", &article)?,
                id_of(ids, "article", &related)?,
                &kind,
                position
            )?;
            "related choices"
        }
        Record::Redirect { path, article } => {
            if !path.starts_with('/') {
                bail!("an old address is a path starting with \"/\", not {path:?}");
            }
            tx_exec!(
                tx,
                "INSERT INTO redirects (path, article_id) VALUES ($1, $2)",
                &path,
                id_of(ids, "article", &article)?
            )?;
            "old addresses"
        }
        Record::Attachment { external_id, url, title, article, created_at } => {
            let article_id = article.as_deref().map(|a| id_of(ids, "article", a)).transpose()?;
            tx_exec!(
                tx,
                "INSERT INTO attachments (external_id, url, title, article_id, created_at) VALUES ($1, $2, $3, $4, $5)",
                &external_id,
                &url,
                &title,
                article_id,
                created_at
            )?;
            "attachments"
        }
        Record::RemoteMedia { url, local_name, error, attempts, fetched_at } => {
            // A dump is input: a copy's name is only ever a stored file's name.
            let local_name = local_name.filter(|n| crate::media::is_stored_name(n));
            tx_exec!(
                tx,
                "INSERT INTO remote_media (url, local_name, error, attempts, fetched_at) VALUES ($1, $2, $3, $4, $5)",
                &url,
                local_name,
                error,
                attempts,
                fetched_at
            )?;
            "remote media"
        }
    })
}
