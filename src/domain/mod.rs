//! The newsroom's vocabulary: articles and their workflow states, people, sections and tags,
//! slugs, and the Markdown-to-safe-HTML pipeline. No I/O here: storage persists these types and
//! the web layer renders views of them.

pub mod article;
pub mod comment;
pub mod hostile;
pub mod html_text;
pub mod markdown;
pub mod slug;
pub mod user;

pub use article::{ArticleStatus, CommentStatus, NewArticle, NewAuthor, NewPage, NewSection};
pub use slug::Slug;
pub use user::{Email, Role};
