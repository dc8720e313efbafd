//! What templates see. Views are built from storage rows here and nowhere else, so a
//! database row is never rendered by accident. Documented in docs/THEMES.md.

use std::collections::HashMap;

use serde::Serialize;

use crate::site::Site;
use crate::storage::articles::{ArticleRow, BylineRow, CardRow, TermRow};

#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub name: String,
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SiteView {
    pub name: String,
    pub tagline: String,
    pub language: String,
    /// URL of the logo image; empty when the site has none (the name is set in type).
    pub logo: String,
    /// Top-level sections, in menu order.
    pub nav: Vec<Link>,
    /// Static pages (About, Contact, ...).
    pub pages: Vec<Link>,
    /// Today's date in the site's time zone, for the masthead.
    pub today: String,
    pub year: i32,
}

#[derive(Debug, Clone, Serialize)]
pub struct PageMeta {
    /// The document title (without the site name).
    pub title: String,
    pub description: String,
    /// Absolute when `base_url` is configured, else a path.
    pub canonical: String,
    /// The path of the request, to mark the current section in the menu.
    pub path: String,
    /// OpenGraph type: "website", "article", "profile".
    pub og_type: String,
    /// Image for link previews (absolute when `base_url` is set).
    pub image: Option<String>,
    /// schema.org JSON-LD, already serialized and safe inside `<script>`.
    pub jsonld: Option<String>,
    /// `<meta name="robots">`, e.g. "noindex" on pages search engines should not keep.
    pub robots: Option<String>,
}

impl PageMeta {
    pub fn with_type(mut self, og_type: &str) -> Self {
        self.og_type = og_type.to_owned();
        self
    }

    pub fn with_image(mut self, image: Option<String>) -> Self {
        self.image = image;
        self
    }

    pub fn noindex(mut self) -> Self {
        self.robots = Some("noindex".to_owned());
        self
    }

    pub fn with_jsonld(mut self, value: &serde_json::Value) -> Self {
        // `</script>` (or any `<`) inside strings must not end the element.
        self.jsonld = Some(value.to_string().replace('<', "\\u003c"));
        self
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TimeView {
    /// RFC 3339 with the site's offset, for `<time datetime>`.
    pub iso: String,
    /// e.g. "24 November 2026, 09:30 GMT"
    pub display: String,
    /// e.g. "24 Nov 2026"
    pub short: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImageView {
    /// The stored address (`/media/42` for a library picture): a plain `<img src>` for others.
    pub url: String,
    pub alt: String,
    pub caption: String,
    pub credit: String,
    /// For a library picture: its variants, size and focal point.
    pub picture: Option<crate::media::markup::PictureView>,
    /// The 16:9 crop for link previews (a library picture's), else the image itself.
    pub share_url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CardView {
    pub headline: String,
    pub url: String,
    pub standfirst: String,
    pub excerpt: String,
    pub section: Link,
    pub published: TimeView,
    pub authors: Vec<Link>,
    pub image: Option<ImageView>,
    /// Approved comments.
    pub comment_count: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ArticleView {
    pub headline: String,
    pub standfirst: String,
    pub url: String,
    /// Sanitized when the article was saved; templates output it with `|safe`.
    pub body_html: String,
    pub excerpt: String,
    pub published: TimeView,
    /// Set when the article changed after publication.
    pub updated: Option<TimeView>,
    pub authors: Vec<Link>,
    /// Primary section first.
    pub sections: Vec<Link>,
    pub tags: Vec<Link>,
    pub image: Option<ImageView>,
    pub word_count: i64,
    pub reading_minutes: i64,
    pub comments_open: bool,
    pub comment_count: i64,
    /// A correction or update note, with when it was made.
    pub correction: Option<Correction>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Correction {
    pub text: String,
    pub at: TimeView,
}

#[derive(Debug, Clone, Serialize)]
pub struct Pagination {
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
}

impl Pagination {
    /// `base` is the list's path; pages after the first add `?page=N` (keeping `extra` query).
    pub fn new(base: &str, extra: &str, page: i64, per_page: i64, total: i64) -> Self {
        let pages = ((total + per_page - 1) / per_page).max(1);
        let url = |n: i64| {
            let mut q = extra.to_owned();
            if n > 1 {
                if !q.is_empty() {
                    q.push('&');
                }
                q.push_str(&format!("page={n}"));
            }
            if q.is_empty() { base.to_owned() } else { format!("{base}?{q}") }
        };
        Self {
            page,
            pages,
            total,
            prev_url: (page > 1).then(|| url(page - 1)),
            next_url: (page < pages).then(|| url(page + 1)),
        }
    }
}

pub fn section_url(slug: &str) -> String {
    format!("/section/{slug}/")
}

pub fn tag_url(slug: &str) -> String {
    format!("/tag/{slug}/")
}

pub fn author_url(slug: &str) -> String {
    format!("/author/{slug}/")
}

/// Builds views against one site snapshot.
pub struct Views<'a> {
    pub site: &'a Site,
    pub base_url: Option<&'a str>,
}

impl Views<'_> {
    pub fn site(&self) -> SiteView {
        let now = self.site.local(chrono::Utc::now().timestamp());
        SiteView {
            name: self.site.settings.name.clone(),
            tagline: self.site.settings.tagline.clone(),
            language: self.site.settings.language.clone(),
            logo: self.sized(&self.site.settings.logo, 640).unwrap_or_default(),
            nav: self
                .site
                .main_sections()
                .map(|s| Link { name: s.name.clone(), url: section_url(&s.slug) })
                .collect(),
            pages: self
                .site
                .pages
                .iter()
                .map(|(slug, title)| Link { name: title.clone(), url: format!("/{slug}/") })
                .collect(),
            today: now.format("%A %-d %B %Y").to_string(),
            year: chrono::Datelike::year(&now),
        }
    }

    pub fn meta(&self, title: &str, description: &str, path: &str) -> PageMeta {
        PageMeta {
            title: title.to_owned(),
            description: description.to_owned(),
            canonical: self.absolute(path),
            path: path.to_owned(),
            og_type: "website".to_owned(),
            image: None,
            jsonld: None,
            robots: None,
        }
    }

    /// An absolute URL when the public address is configured, else the path.
    pub fn absolute(&self, path: &str) -> String {
        match self.base_url {
            Some(base) if path.starts_with('/') => format!("{base}{path}"),
            _ => path.to_owned(),
        }
    }

    /// schema.org `NewsArticle` and `BreadcrumbList` for an article page.
    pub fn article_jsonld(&self, a: &ArticleView) -> serde_json::Value {
        let url = self.absolute(&a.url);
        let site = &self.site.settings;
        let mut publisher = serde_json::json!({ "@type": "NewsMediaOrganization", "name": site.name, "url": self.absolute("/") });
        if let Some(logo) = self.sized(&site.logo, 640).filter(|l| !l.is_empty()) {
            publisher["logo"] = serde_json::json!({ "@type": "ImageObject", "url": self.absolute(&logo) });
        }
        let mut article = serde_json::json!({
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": a.headline,
            "description": if a.standfirst.is_empty() { &a.excerpt } else { &a.standfirst },
            "datePublished": a.published.iso,
            "dateModified": a.updated.as_ref().unwrap_or(&a.published).iso,
            "author": a.authors.iter().map(|p| serde_json::json!({ "@type": "Person", "name": p.name, "url": self.absolute(&p.url) })).collect::<Vec<_>>(),
            "publisher": publisher,
            "mainEntityOfPage": { "@type": "WebPage", "@id": url },
            "url": url,
            "articleSection": a.sections.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            "keywords": a.tags.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            "wordCount": a.word_count,
            "commentCount": a.comment_count,
            "inLanguage": site.language,
        });
        if let Some(image) = &a.image {
            // Google asks for 16:9, 4:3 and 1:1 versions: a library picture has all three crops.
            let images: Vec<String> = match self.site.picture(&image.url) {
                Some(p) => p.crops().iter().map(|u| self.absolute(u)).collect(),
                None => vec![self.absolute(&image.url)],
            };
            article["image"] = serde_json::json!(images);
        }
        if let Some(c) = &a.correction {
            article["correction"] = serde_json::json!({ "@type": "CorrectionComment", "text": c.text, "datePublished": c.at.iso });
        }
        let mut crumbs = vec![
            serde_json::json!({ "@type": "ListItem", "position": 1, "name": site.name, "item": self.absolute("/") }),
        ];
        if let Some(section) = a.sections.first() {
            crumbs.push(serde_json::json!({ "@type": "ListItem", "position": 2, "name": section.name, "item": self.absolute(&section.url) }));
        }
        crumbs.push(serde_json::json!({ "@type": "ListItem", "position": crumbs.len() + 1, "name": a.headline, "item": url }));
        serde_json::json!([article, { "@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": crumbs }])
    }

    pub fn time(&self, unix: i64) -> TimeView {
        let t = self.site.local(unix);
        TimeView {
            iso: t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            display: t.format("%-d %B %Y, %H:%M %Z").to_string(),
            short: t.format("%-d %b %Y").to_string(),
        }
    }

    /// Stored article or page HTML with its library pictures drawn in every size (the text
    /// column is at most 40rem wide); `pending` stands in for a picture whose files are not
    /// made yet.
    pub fn body_with(&self, html: &str, pending: &str) -> String {
        crate::media::markup::expand_body(
            html,
            |id| self.site.pictures.get(&id).map(|p| &**p),
            "(min-width: 42rem) 40rem, 100vw",
            pending,
        )
    }

    /// [`Self::body_with`] for readers: a picture not made yet is left out.
    pub fn body(&self, html: &str) -> String {
        self.body_with(html, "")
    }

    /// The library picture an address names, when its files are made; `Err` when the address
    /// names one that is not (yet): pages leave it out rather than link to a file that is not
    /// there.
    fn shown(&self, url: &str) -> Result<Option<&crate::media::markup::PictureRef>, ()> {
        match crate::media::markup::picture_id(url) {
            None => Ok(None),
            Some(_) => self.site.picture(url).filter(|p| p.ready).map(Some).ok_or(()),
        }
    }

    /// A plain file for an image address: a library picture's variant about `width` wide (a
    /// logo, an author's photo), any other address as it is; None for a library picture
    /// whose files are not made yet.
    pub fn sized(&self, url: &str, width: u32) -> Option<String> {
        match self.shown(url).ok()? {
            Some(p) => Some(p.plain_url(width)),
            None => Some(url.to_owned()),
        }
    }

    /// An image as stored with an article: a library picture's own description fills what the
    /// article leaves empty (an article may caption a picture its own way).
    pub fn image(
        &self,
        url: &str,
        alt: Option<&str>,
        caption: Option<&str>,
        credit: Option<&str>,
    ) -> Option<ImageView> {
        let own = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        Some(match self.shown(url).ok()? {
            Some(p) => ImageView {
                url: url.to_owned(),
                alt: own(alt).unwrap_or_else(|| p.alt.clone()),
                caption: own(caption).unwrap_or_else(|| p.caption.clone()),
                credit: own(credit).unwrap_or_else(|| p.credit.clone()),
                picture: Some(p.view()),
                share_url: p.crop((16, 9)).0,
            },
            None => ImageView {
                url: url.to_owned(),
                alt: own(alt).unwrap_or_default(),
                caption: own(caption).unwrap_or_default(),
                credit: own(credit).unwrap_or_default(),
                picture: None,
                share_url: url.to_owned(),
            },
        })
    }

    /// Cards for rows, with bylines looked up from one `bylines` query.
    pub fn cards(&self, rows: &[CardRow], bylines: &[BylineRow]) -> Vec<CardView> {
        let mut by_article: HashMap<i64, Vec<Link>> = HashMap::new();
        for b in bylines {
            by_article
                .entry(b.article_id)
                .or_default()
                .push(Link { name: b.name.clone(), url: author_url(&b.slug) });
        }
        rows.iter()
            .inspect(|r| super::cache::shows_article(r.id))
            .map(|r| CardView {
                headline: r.headline.clone(),
                url: self.site.article_url(&r.slug, r.published_at),
                standfirst: r.standfirst.clone(),
                excerpt: r.excerpt.clone(),
                section: Link { name: r.section_name.clone(), url: section_url(&r.section_slug) },
                published: self.time(r.published_at),
                authors: by_article.remove(&r.id).unwrap_or_default(),
                image: r
                    .featured_image_url
                    .as_ref()
                    .and_then(|url| self.image(url, r.featured_image_alt.as_deref(), None, None)),
                comment_count: r.comment_count,
            })
            .collect()
    }

    pub fn article(&self, row: &ArticleRow, terms: &[TermRow]) -> ArticleView {
        super::cache::shows_article(row.id);
        let links = |kind: &str, url: fn(&str) -> String| {
            terms
                .iter()
                .filter(|t| t.kind == kind)
                .map(|t| Link { name: t.name.clone(), url: url(&t.slug) })
                .collect::<Vec<_>>()
        };
        ArticleView {
            headline: row.headline.clone(),
            standfirst: row.standfirst.clone(),
            url: self.site.article_url(&row.slug, row.published_at),
            body_html: self.body(&row.body_html),
            excerpt: row.excerpt.clone(),
            published: self.time(row.published_at),
            updated: (row.updated_at > row.published_at + 60).then(|| self.time(row.updated_at)),
            authors: links("author", author_url),
            sections: links("section", section_url),
            tags: links("tag", tag_url),
            image: row.featured_image_url.as_ref().and_then(|url| {
                self.image(
                    url,
                    row.featured_image_alt.as_deref(),
                    row.featured_image_caption.as_deref(),
                    row.featured_image_credit.as_deref(),
                )
            }),
            word_count: row.word_count,
            reading_minutes: ((row.word_count + 219) / 220).max(1),
            comments_open: row.comment_status == "open",
            comment_count: row.comment_count,
            correction: (!row.correction.is_empty()).then(|| Correction {
                text: row.correction.clone(),
                at: self.time(row.corrected_at.unwrap_or(row.updated_at)),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagination_links() {
        let p = Pagination::new("/section/news/", "", 1, 20, 45);
        assert_eq!(
            (p.pages, p.prev_url.as_deref(), p.next_url.as_deref()),
            (3, None, Some("/section/news/?page=2"))
        );
        let p = Pagination::new("/search", "q=x", 2, 20, 45);
        assert_eq!(p.prev_url.as_deref(), Some("/search?q=x"));
        assert_eq!(p.next_url.as_deref(), Some("/search?q=x&page=3"));
        assert_eq!(Pagination::new("/", "", 1, 20, 0).pages, 1);
    }
}
