//! The theme: templates and static assets compiled into the binary, each overridable at run
//! time by a file of the same name under the configured theme directory
//! (`templates/NAME.html`, `static/NAME`). Assets are served under content-hashed URLs
//! (`/static/style.3f9a0c12.css`) with immutable caching.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use minijinja::{AutoEscape, Environment};
use serde::Serialize;

macro_rules! embedded {
    ($kind:literal: $($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!("../themes/default/", $kind, "/", $name)).as_slice())),*]
    };
}

const TEMPLATES: &[(&str, &[u8])] = embedded!("templates":
    "base.html", "macros.html", "home.html", "article.html", "archive.html", "page.html",
    "search.html", "error.html", "comment_problem.html", "kept.html", "api.html",
    "admin/base.html", "admin/login.html", "admin/articles.html", "admin/editor.html", "admin/revisions.html",
    "admin/sections.html", "admin/tags.html", "admin/pages.html", "admin/users.html", "admin/settings.html",
    "admin/authors.html", "admin/comments.html", "admin/comment.html", "admin/discussion.html",
    "admin/media.html", "admin/picture.html", "admin/tokens.html", "admin/webhooks.html", "admin/webhook.html",
);

const ASSETS: &[(&str, &[u8])] = embedded!("static":
    "style.css", "admin.css", "admin.js", "comments.js", "favicon.svg", "favicon.ico",
);

/// One static file, ready to serve.
#[derive(Debug, Clone)]
pub struct Asset {
    pub bytes: Arc<[u8]>,
    pub content_type: &'static str,
    /// `/static/NAME.HASH.EXT`
    pub url: String,
    /// The file as served: its validator and its brotli and gzip bodies, made at start.
    pub page: Arc<crate::web::cache::Page>,
}

pub struct Theme {
    env: Environment<'static>,
    /// By hashed URL path, e.g. `/static/style.3f9a0c12.css`.
    assets: HashMap<String, Asset>,
    /// By plain name, e.g. `favicon.ico`.
    named: HashMap<String, Asset>,
}

impl Theme {
    /// Loads the built-in theme and applies overrides from `dir` when given.
    pub fn load(dir: Option<&Path>) -> anyhow::Result<Self> {
        let mut templates: HashMap<String, String> = HashMap::new();
        for (name, bytes) in TEMPLATES {
            templates.insert((*name).to_owned(), String::from_utf8(bytes.to_vec())?);
        }
        let mut files: HashMap<String, Vec<u8>> =
            ASSETS.iter().map(|(n, b)| ((*n).to_owned(), b.to_vec())).collect();

        if let Some(dir) = dir {
            for (name, bytes) in read_dir_files(&dir.join("templates"))? {
                let text = String::from_utf8(bytes)
                    .with_context(|| format!("theme template {name} is not UTF-8"))?;
                templates.insert(name, text);
            }
            files.extend(read_dir_files(&dir.join("static"))?);
        }

        let mut named = HashMap::new();
        let mut assets = HashMap::new();
        for (name, bytes) in files {
            let mut headers = axum::http::HeaderMap::new();
            headers.insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static(content_type(&name)),
            );
            let page = crate::web::cache::Page::new(headers, bytes.clone().into()).compressed();
            let asset = Asset {
                content_type: content_type(&name),
                url: hashed_url(&name, &bytes),
                bytes: bytes.into(),
                page: Arc::new(page),
            };
            assets.insert(asset.url.clone(), asset.clone());
            named.insert(name, asset);
        }

        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") || name.ends_with(".xml") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        env.set_formatter(format_value);
        let urls: Arc<HashMap<String, String>> =
            Arc::new(named.iter().map(|(n, a)| (n.clone(), a.url.clone())).collect());
        env.add_function("asset", move |name: &str| -> Result<String, minijinja::Error> {
            urls.get(name).cloned().ok_or_else(|| {
                minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    format!("no asset named {name:?} in the theme"),
                )
            })
        });
        for (name, source) in templates {
            env.add_template_owned(name.clone(), source)
                .with_context(|| format!("theme template {name} has an error"))?;
        }
        // Render-check every page template once so a broken override fails at start.
        for name in [
            "home.html",
            "article.html",
            "archive.html",
            "page.html",
            "search.html",
            "error.html",
            "comment_problem.html",
            "kept.html",
            "api.html",
        ] {
            env.get_template(name).with_context(|| format!("theme is missing {name}"))?;
        }
        Ok(Self { env, assets, named })
    }

    pub fn render(&self, name: &str, ctx: impl Serialize) -> anyhow::Result<String> {
        let template = self.env.get_template(name)?;
        template
            .render(minijinja::Value::from(minijinja::value::Serde(&ctx)))
            .with_context(|| format!("rendering {name}"))
    }

    pub fn asset_by_url(&self, path: &str) -> Option<&Asset> {
        self.assets.get(path)
    }

    pub fn asset_by_name(&self, name: &str) -> Option<&Asset> {
        self.named.get(name)
    }
}

/// Escapes strings for HTML with the five characters that matter (minijinja's default also
/// escapes `/`, which bloats every URL); everything else uses the default formatter.
fn format_value(
    out: &mut minijinja::Output,
    state: &mut minijinja::State,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    if let (AutoEscape::Html, Some(s), false) = (state.auto_escape(), value.as_str(), value.is_safe()) {
        let mut last = 0;
        for (i, b) in s.bytes().enumerate() {
            let rep = match b {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                _ => continue,
            };
            out.write_str(&s[last..i]).map_err(minijinja::Error::from)?;
            out.write_str(rep).map_err(minijinja::Error::from)?;
            last = i + 1;
        }
        return out.write_str(&s[last..]).map_err(minijinja::Error::from);
    }
    minijinja::escape_formatter(out, state, value)
}

fn read_dir_files(dir: &Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("cannot read theme directory {}", dir.display()))?
    {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let bytes = std::fs::read(entry.path())
                .with_context(|| format!("cannot read {}", entry.path().display()))?;
            out.push((name, bytes));
        }
    }
    Ok(out)
}

fn hashed_url(name: &str, bytes: &[u8]) -> String {
    let hash = fnv1a(bytes);
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("/static/{stem}.{hash:08x}.{ext}"),
        None => format!("/static/{name}.{hash:08x}"),
    }
}

/// 64-bit FNV-1a, for ETags.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// 32-bit FNV-1a: enough to bust caches, no dependency.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(*b)).wrapping_mul(0x0100_0193))
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, e)| e) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("ico") => "image/x-icon",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_output_is_escaped() {
        let mut env = Environment::new();
        env.set_formatter(format_value);
        env.add_template("t.html", "{{ x }}|{{ y|safe }}").unwrap();
        let out = env
            .get_template("t.html")
            .unwrap()
            .render(minijinja::context! { x => "<a href=\"/x\">'&'</a>", y => "<b>" })
            .unwrap();
        assert_eq!(out, "&lt;a href=&quot;/x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;|<b>");
    }

    #[test]
    fn builtin_theme_loads_and_hashes_assets() {
        let theme = Theme::load(None).unwrap();
        let css = theme.asset_by_name("style.css").unwrap();
        assert!(css.url.starts_with("/static/style.") && css.url.ends_with(".css"));
        assert!(theme.asset_by_url(&css.url).is_some());
    }

    #[test]
    fn a_theme_directory_overrides_templates_and_assets() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("static")).unwrap();
        std::fs::write(dir.path().join("static/style.css"), "body{color:red}").unwrap();
        let builtin = Theme::load(None).unwrap();
        let custom = Theme::load(Some(dir.path())).unwrap();
        let (a, b) =
            (builtin.asset_by_name("style.css").unwrap(), custom.asset_by_name("style.css").unwrap());
        assert_ne!(a.url, b.url);
        assert_eq!(&*b.bytes, b"body{color:red}");
    }
}
