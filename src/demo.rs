//! The demo edition: The Harbour Courier, a fictional daily with running stories, written for
//! Gazette and compiled into the binary. Loading is idempotent: what exists (by slug, or by
//! the `demo:` external id for articles) is left alone.

use anyhow::{Context, bail};
use chrono::{Duration, NaiveTime, TimeZone, Utc};
use serde::Deserialize;

use crate::accounts;
use crate::content;
use crate::domain::{
    ArticleStatus, CommentStatus, Email, NewArticle, NewAuthor, NewPage, NewSection, Role, Slug,
};
use crate::site::Settings;
use crate::storage::users;
use crate::storage::{Db, articles, settings};

const EDITION: &str = include_str!("../demo/edition.toml");
const COMMENTS: &str = include_str!("../demo/comments.toml");
const STORIES: &[(&str, &str)] = &[
    ("bridge", include_str!("../demo/stories/bridge.md")),
    ("election", include_str!("../demo/stories/election.md")),
    ("windfarm", include_str!("../demo/stories/windfarm.md")),
    ("drought", include_str!("../demo/stories/drought.md")),
    ("rovers", include_str!("../demo/stories/rovers.md")),
    ("lyric", include_str!("../demo/stories/lyric.md")),
    ("opinion", include_str!("../demo/stories/opinion.md")),
];

#[derive(Debug, Deserialize)]
struct Edition {
    settings: Vec<(String, String)>,
    sections: Vec<SectionDef>,
    authors: Vec<AuthorDef>,
    pages: Vec<PageDef>,
}

#[derive(Debug, Deserialize)]
struct SectionDef {
    slug: String,
    name: String,
    description: String,
    parent: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AuthorDef {
    slug: String,
    name: String,
    bio: String,
}

#[derive(Debug, Deserialize)]
struct PageDef {
    slug: String,
    title: String,
    body: String,
}

/// The front matter of one demo article.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArticleDef {
    slug: String,
    headline: String,
    standfirst: String,
    /// Primary section first.
    sections: Vec<String>,
    authors: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    days_ago: i64,
    /// Local time of publication, "HH:MM".
    time: String,
    #[serde(default)]
    comments_closed: bool,
}

#[derive(Debug, Deserialize)]
struct CommentFile {
    thread: Vec<CommentDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentDef {
    #[serde(default)]
    article: String,
    name: String,
    email: String,
    #[serde(default)]
    url: String,
    minutes: i64,
    text: String,
    #[serde(default)]
    staff: bool,
    #[serde(default)]
    replies: Vec<CommentDef>,
}

/// Adds the demo comments to articles that have none yet.
async fn load_comments(db: &Db) -> anyhow::Result<()> {
    let file: CommentFile = toml::from_str(COMMENTS).context("demo comments.toml")?;
    let mut done = std::collections::HashSet::new();
    for thread in &file.thread {
        let Some(article) = articles::find_published_by_slug(db, &thread.article).await? else { continue };
        if article.comment_count > 0 && !done.contains(&article.id) {
            continue;
        }
        done.insert(article.id);
        add_comment(db, article.id, article.published_at, None, thread).await?;
    }
    Ok(())
}

fn add_comment<'a>(
    db: &'a Db,
    article_id: i64,
    published_at: i64,
    parent_id: Option<i64>,
    def: &'a CommentDef,
) -> std::pin::Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + 'a>> {
    Box::pin(async move {
        let staff_user_id = if def.staff {
            let email = Email::parse(&def.email).map_err(anyhow::Error::msg)?;
            users::find_by_email(db, &email).await?.map(|u| u.id)
        } else {
            None
        };
        let existing = crate::comments::Existing {
            article_id,
            parent_id,
            name: def.name.clone(),
            email: def.email.clone(),
            url: def.url.clone(),
            text: def.text.trim().to_owned(),
            created_at: (published_at + def.minutes * 60).min(crate::storage::now()),
            staff_user_id,
            ..Default::default()
        };
        let id = crate::comments::add_existing(db, &existing, crate::domain::comment::CommentState::Approved)
            .await?;
        for reply in &def.replies {
            add_comment(db, article_id, published_at, Some(id), reply).await?;
        }
        Ok(())
    })
}

/// Demo staff accounts: (e-mail, name, role). They share [`DEMO_PASSWORD`]; names that match
/// a demo author reuse that byline.
pub const DEMO_ACCOUNTS: &[(&str, &str, Role)] = &[
    ("admin@harbourcourier.example", "Site Administrator", Role::Administrator),
    ("maeve@harbourcourier.example", "Maeve Okonjo", Role::Editor),
    ("tomasz@harbourcourier.example", "Tomasz Keller", Role::Author),
    ("priya@harbourcourier.example", "Priya Nandakumar", Role::Contributor),
];

/// The password of every demo account. Printed on start; a demo is not a production site.
pub const DEMO_PASSWORD: &str = "courier-demo";

/// What a load did.
#[derive(Debug, Default)]
pub struct Report {
    pub added: usize,
    pub present: usize,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "demo edition: {} articles added, {} already present", self.added, self.present)
    }
}

/// Parses `+++`-fenced TOML front matter followed by a Markdown body, repeated.
fn parse_stories(text: &str) -> anyhow::Result<Vec<(ArticleDef, String)>> {
    let Some(text) = text.strip_prefix("+++\n") else {
        bail!("a story file must start with a +++ line");
    };
    let parts: Vec<&str> = text.split("\n+++\n").collect();
    let mut out = Vec::new();
    for pair in parts.chunks(2) {
        let [front, body] = pair else { bail!("front matter without a body") };
        let def: ArticleDef =
            toml::from_str(front).with_context(|| format!("demo front matter:\n{front}"))?;
        out.push((def, body.trim().to_owned()));
    }
    Ok(out)
}

fn slug(s: &str) -> anyhow::Result<Slug> {
    Ok(Slug::parse(s)?)
}

pub async fn load(db: &Db) -> anyhow::Result<Report> {
    let edition: Edition = toml::from_str(EDITION).context("demo edition.toml")?;
    let existing = settings::all(db).await?;
    for (key, value) in &edition.settings {
        if !existing.contains_key(key) {
            content::set_setting(db, key, value).await?;
        }
    }
    for (position, s) in edition.sections.iter().enumerate() {
        let section = NewSection {
            slug: slug(&s.slug)?,
            name: s.name.clone(),
            description: s.description.clone(),
            parent: s.parent.as_deref().map(slug).transpose()?,
            position: position as i64,
        };
        content::ensure_section(db, &section).await?;
    }
    for a in &edition.authors {
        let author =
            NewAuthor { slug: slug(&a.slug)?, name: a.name.clone(), bio: a.bio.clone(), photo_url: None };
        content::ensure_author(db, &author).await?;
    }
    for p in &edition.pages {
        let page = NewPage {
            slug: slug(&p.slug)?,
            title: p.title.clone(),
            body_source: p.body.trim().to_owned(),
            in_footer: true,
        };
        content::ensure_page(db, &page).await?;
    }

    for (email, name, role) in DEMO_ACCOUNTS {
        let address = Email::parse(email).map_err(anyhow::Error::msg)?;
        if users::find_by_email(db, &address).await?.is_none() {
            accounts::create_user(db, email, name, *role, DEMO_PASSWORD).await?;
        }
    }

    let settings = Settings::from_map(&settings::all(db).await?);
    let now = Utc::now();
    let today = now.with_timezone(&settings.timezone).date_naive();
    let mut report = Report::default();
    for (_, story) in STORIES {
        for (def, body) in parse_stories(story)? {
            let external_id = format!("demo:{}", def.slug);
            if articles::exists_external(db, &external_id).await? {
                report.present += 1;
                continue;
            }
            let time = NaiveTime::parse_from_str(&def.time, "%H:%M")
                .with_context(|| format!("bad time in demo article {}", def.slug))?;
            let local = (today - Duration::days(def.days_ago)).and_time(time);
            let published = settings
                .timezone
                .from_local_datetime(&local)
                .earliest()
                .map_or(now, |t| t.with_timezone(&Utc))
                .min(now - Duration::minutes(5));
            let article = NewArticle {
                external_id: Some(external_id),
                slug: slug(&def.slug)?,
                headline: def.headline,
                standfirst: def.standfirst,
                body_source: body,
                excerpt: String::new(),
                status: ArticleStatus::Published,
                author_slugs: def.authors.iter().map(|a| slug(a)).collect::<Result<_, _>>()?,
                section_slugs: def.sections.iter().map(|s| slug(s)).collect::<Result<_, _>>()?,
                tags: def.tags,
                featured_image: None,
                comment_status: if def.comments_closed { CommentStatus::Closed } else { CommentStatus::Open },
                published_at: Some(published.timestamp()),
                sticky: false,
            };
            content::create_article(db, &article).await?;
            report.added += 1;
        }
    }
    if report.added > 0 {
        load_comments(db).await?;
    }
    Ok(report)
}

/// Gives each demo article without a picture one drawn for its story (see `media::demo`),
/// through the picture library like an upload. Run by `serve --demo` and `gazette demo`; tests
/// that load the demo edition leave it out (processing them all takes a while).
pub async fn load_pictures(db: &Db, store: &crate::media::store::MediaStore) -> anyhow::Result<usize> {
    use crate::media::demo::{Scene, jpeg};
    let mut added = 0;
    for (name, story) in STORIES {
        let scene = Scene::for_story(name);
        for (index, (def, _)) in parse_stories(story)?.into_iter().enumerate() {
            let Some(id) = articles::id_by_external(db, &format!("demo:{}", def.slug)).await? else {
                continue;
            };
            if articles::featured_image(db, id).await?.is_some_and(|i| i.featured_image_url.is_some()) {
                continue;
            }
            let file = jpeg(scene, index + name.len(), 1600, 1000);
            let description = crate::storage::pictures::Description {
                alt: scene.alt().to_owned(),
                caption: String::new(),
                credit: "Illustration: The Harbour Courier".to_owned(),
                focus: (5000, 5000),
            };
            let picture = crate::media::library::add(
                db,
                store,
                &file,
                &format!("{}.jpg", def.slug),
                &description,
                None,
            )
            .await
            .map_err(|e| anyhow::anyhow!("adding the demo picture for {}: {e}", def.slug))?;
            let image = crate::domain::article::FeaturedImage {
                url: crate::media::markup::reference(picture),
                alt: String::new(),
                caption: String::new(),
                credit: String::new(),
            };
            let mut tx = db.begin().await?;
            articles::set_featured_image(&mut tx, id, Some(&image)).await?;
            crate::storage::events::record(&mut tx, crate::storage::events::EventKind::ArticleUpdated, id)
                .await?;
            tx.commit().await?;
            added += 1;
        }
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_story_parses_and_is_of_realistic_length() {
        let mut slugs = std::collections::HashSet::new();
        let mut total = 0;
        for (_, story) in STORIES {
            for (def, body) in parse_stories(story).unwrap() {
                let words = body.split_whitespace().count();
                assert!((250..=900).contains(&words), "{} has {words} words", def.slug);
                assert!(slugs.insert(def.slug.clone()), "duplicate slug {}", def.slug);
                assert!(Slug::parse(&def.slug).is_ok(), "{}", def.slug);
                total += 1;
            }
        }
        assert!((30..=40).contains(&total), "{total} demo articles");
    }

    #[test]
    fn the_edition_parses() {
        let e: Edition = toml::from_str(EDITION).unwrap();
        assert!((4..=6).contains(&e.authors.len()));
        assert!(e.pages.iter().any(|p| p.slug == "about") && e.pages.iter().any(|p| p.slug == "contact"));
    }
}
