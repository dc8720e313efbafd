//! Related posts for an article page.
//!
//! For now: the newest other stories of the article's primary section, topped up from its
//! further sections and then from the latest stories when a section is small. This is the one
//! function the related-posts engine replaces (precomputed, story-aware lists).

use crate::storage::Db;
use crate::storage::articles::{self, ArticleRow, CardRow};

/// How many related stories an article shows.
pub const COUNT: usize = 6;

/// At most three indexed queries; usually one.
pub async fn related_posts(db: &Db, article: &ArticleRow) -> anyhow::Result<Vec<CardRow>> {
    let limit = COUNT as i64;
    let mut picked = articles::recent_in_section(db, article.primary_section_id, article.id, limit).await?;
    if picked.len() < COUNT {
        let more = articles::recent_sharing_sections(db, article.id, limit * 2).await?;
        top_up(&mut picked, more, article.id);
    }
    if picked.len() < COUNT {
        let more = articles::latest(db, limit * 2, 0).await?;
        top_up(&mut picked, more, article.id);
    }
    Ok(picked)
}

fn top_up(picked: &mut Vec<CardRow>, more: Vec<CardRow>, exclude: i64) {
    for card in more {
        if picked.len() == COUNT {
            break;
        }
        if card.id != exclude && !picked.iter().any(|p| p.id == card.id) {
            picked.push(card);
        }
    }
}
