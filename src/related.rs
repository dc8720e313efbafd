//! Related posts for an article page.
//!
//! For now: the newest other stories of the article's primary section. This is the one
//! function the related-posts engine replaces (precomputed, story-aware lists).

use crate::storage::Db;
use crate::storage::articles::{self, ArticleRow, CardRow};

/// How many related stories an article shows.
pub const COUNT: i64 = 6;

pub async fn related_posts(db: &Db, article: &ArticleRow) -> anyhow::Result<Vec<CardRow>> {
    articles::recent_in_section(db, article.primary_section_id, article.id, COUNT).await
}
