//! Articles, people, sections and pages as the domain knows them when they are written.
//! Read models live in `storage` (rows) and views in `web` (what templates see).

use std::fmt;
use std::str::FromStr;

use super::Slug;

/// Where an article is in the newsroom's workflow. Only `Published` is visible to readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArticleStatus {
    Draft,
    Pending,
    Scheduled,
    Published,
    Unpublished,
    Trashed,
}

impl ArticleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Pending => "pending",
            Self::Scheduled => "scheduled",
            Self::Published => "published",
            Self::Unpublished => "unpublished",
            Self::Trashed => "trashed",
        }
    }
}

impl FromStr for ArticleStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "draft" => Self::Draft,
            "pending" => Self::Pending,
            "scheduled" => Self::Scheduled,
            "published" => Self::Published,
            "unpublished" => Self::Unpublished,
            "trashed" => Self::Trashed,
            other => return Err(format!("unknown article status {other:?}")),
        })
    }
}

impl fmt::Display for ArticleStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether readers may comment on an article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentStatus {
    Open,
    Closed,
}

impl CommentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }
}

/// A featured image: where it is, and the words that go with it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeaturedImage {
    pub url: String,
    pub alt: String,
    pub caption: String,
    pub credit: String,
}

/// An article to insert. Sections and tags are given by slug; the first section is primary.
#[derive(Debug, Clone)]
pub struct NewArticle {
    pub external_id: Option<String>,
    pub slug: Slug,
    pub headline: String,
    pub standfirst: String,
    /// Markdown.
    pub body_source: String,
    /// Plain text; derived from the body when empty.
    pub excerpt: String,
    pub status: ArticleStatus,
    pub author_slugs: Vec<Slug>,
    pub section_slugs: Vec<Slug>,
    /// Tag names; slugs are derived, unknown tags are created.
    pub tags: Vec<String>,
    pub featured_image: Option<FeaturedImage>,
    pub comment_status: CommentStatus,
    pub published_at: Option<i64>,
    /// Kept at the top of the front page (editors decide; WordPress's "sticky").
    pub sticky: bool,
}

#[derive(Debug, Clone)]
pub struct NewAuthor {
    pub slug: Slug,
    pub name: String,
    pub bio: String,
    pub photo_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewSection {
    pub slug: Slug,
    pub name: String,
    pub description: String,
    pub parent: Option<Slug>,
    pub position: i64,
}

#[derive(Debug, Clone)]
pub struct NewPage {
    pub slug: Slug,
    pub title: String,
    /// Markdown.
    pub body_source: String,
    /// Linked in the site's footer.
    pub in_footer: bool,
}
