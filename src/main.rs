//! The `gazette` command. Every command works on the store named by the global options.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use gazette::accounts;
use gazette::app::{self, App};
use gazette::config::{Config, Overrides};
use gazette::domain::Role;
use gazette::storage::users;
use tracing_subscriber::EnvFilter;

/// Gazette: a self-hosted news publishing platform.
///
/// The store is SQLite in --data-dir unless --database-url names PostgreSQL. Options may also
/// be set in a TOML config file (--config) and from GAZETTE_* environment variables; flags and
/// variables win over the file.
#[derive(Debug, Parser)]
#[command(name = "gazette", version, about, long_about)]
struct Cli {
    /// A TOML config file (keys: listen, data_dir, database_url, theme_dir, base_url, permalink,
    /// page_cache, trusted_proxies, [http_cache], [media], [api], [webhooks], [serving]).
    #[arg(long, global = true, env = "GAZETTE_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    /// Directory for the embedded SQLite store and uploaded files [default: ./gazette-data].
    #[arg(long, global = true, env = "GAZETTE_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// postgres://USER[:PASSWORD]@HOST/DB for a shared PostgreSQL store, or sqlite://PATH.
    #[arg(long, global = true, env = "GAZETTE_DATABASE_URL", value_name = "URL")]
    database_url: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web site (migrations run first).
    Serve {
        /// Address to listen on [default: 127.0.0.1:3000].
        #[arg(long, env = "GAZETTE_LISTEN", value_name = "ADDR")]
        listen: Option<SocketAddr>,
        /// Load the demo edition first if the store has no articles.
        #[arg(long)]
        demo: bool,
        /// With --demo: leave out the demo's drawn pictures (they take a minute or two to
        /// process in the background).
        #[arg(long, requires = "demo")]
        no_pictures: bool,
    },
    /// Bring the database schema up to date, then exit.
    Migrate,
    /// Load the demo edition (The Harbour Courier). Running it twice changes nothing.
    Demo {
        /// Leave out the drawn pictures.
        #[arg(long)]
        no_pictures: bool,
    },
    /// Manage newsroom accounts. Passwords are read from a prompt or from standard input.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Write the site to a file (see docs/EXPORT.md).
    Export {
        #[command(subcommand)]
        format: ExportCommand,
    },
    /// Load a site from a file into an empty store.
    Import {
        #[command(subcommand)]
        format: ImportCommand,
    },
    /// The comment spam filter's shipped model.
    Spam {
        #[command(subcommand)]
        action: SpamCommand,
    },
    /// Measure quality against labelled data (see docs/COMMENTS.md).
    Eval {
        #[command(subcommand)]
        what: EvalCommand,
    },
    /// Rebuild the search index and every related list from the store (progress on stderr).
    Reindex,
    /// Editors' choices for one article's related posts.
    Related {
        #[command(subcommand)]
        action: RelatedCommand,
    },
    /// Copies of an imported site's images in this site's own media store.
    Media {
        #[command(subcommand)]
        action: MediaCommand,
    },
    /// Fill the store with a synthetic archive, for benchmarks.
    Generate {
        /// How many articles to add.
        #[arg(long, default_value_t = 10_000)]
        articles: usize,
        /// Seed of the generator; the same seed gives the same archive.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Draw headlines and sentences from real articles in this JSON Lines file (the
        /// `import jsonl` schema: title, text), in running stories, instead of pseudo-words.
        #[arg(long, value_name = "FILE.jsonl")]
        sample: Option<PathBuf>,
    },
}

/// How remote images are fetched (`media fetch`, `import wordpress --fetch-media`).
#[derive(Debug, Clone, clap::Args)]
struct FetchArgs {
    /// Downloads in flight at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Longest wait for one file, in seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Largest file accepted, in megabytes (the picture library takes at most 40).
    #[arg(long, default_value_t = 40)]
    max_mb: usize,
}

impl FetchArgs {
    /// The options, with the config file's `[outbound] allow_private` (an old site on this host
    /// or LAN; off by default: public addresses only).
    fn options(&self, config: &Config) -> gazette::remote_media::Options {
        gazette::remote_media::Options {
            concurrency: self.concurrency.max(1),
            timeout: std::time::Duration::from_secs(self.timeout.max(1)),
            max_bytes: self.max_mb.clamp(1, gazette::media::library::MAX_BYTES >> 20) << 20,
            allow_private: config.outbound.allow_private,
            allow: config.outbound.allow.clone(),
        }
    }
}

#[derive(Debug, Subcommand)]
enum MediaCommand {
    /// Download the remote images that imported articles and pages show (attachments,
    /// featured images, images in bodies on the attachments' hosts), store them under
    /// DATA_DIR/media and relink what shows them. Run it again to retry what failed.
    Fetch {
        #[command(flatten)]
        fetch: FetchArgs,
    },
    /// Add every picture in a folder (and its subfolders) to the library, as uploads: each is
    /// checked, kept and queued for processing (done by `serve`, on any node). Files already
    /// in the library are not added twice; refused files are listed with the reason.
    Import {
        dir: PathBuf,
        /// A credit given to every picture (e.g. the photographer or the archive).
        #[arg(long, default_value = "")]
        credit: String,
    },
    /// Check a picture as an upload would be checked and make all its variants, storing
    /// nothing: prints each file made, the time taken and the process's peak memory.
    Try {
        /// A JPEG, PNG, GIF or WebP file.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user (and an author profile of the same name, for bylines).
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// administrator, editor, author or contributor.
        #[arg(long)]
        role: Role,
    },
    /// Set a new password; the user's sessions end on every node.
    ResetPassword { email: String },
    /// List users and their roles.
    List,
    /// Make an API token for a user (printed once; see docs/API.md): for scripts set up on the
    /// server. Staff make their own in the admin, under API tokens.
    Token {
        #[arg(long)]
        email: String,
        /// What will use it.
        #[arg(long)]
        name: String,
        /// drafts:read, articles:write, articles:publish, comments:moderate, media:write
        /// (repeat the flag for several).
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ExportCommand {
    /// WXR 1.2 that WordPress's importer reads (posts, pages, comments, authors, categories,
    /// tags, attachments): the way back to WordPress.
    Wordpress {
        /// The file to write (replaced atomically).
        out: PathBuf,
        /// The site's address for links in the file [default: base_url from the config].
        #[arg(long)]
        base_url: Option<String>,
    },
    /// Everything (settings, people, sections, tags, articles with revisions, pages, accounts)
    /// as JSON Lines: a backup, and the way from SQLite to PostgreSQL.
    Json {
        /// The file to write (replaced atomically).
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum SpamCommand {
    /// Build the model from labelled comments (a CSV/JSON Lines file or a directory of them)
    /// and write it (to models/spam.json for the next build to ship it).
    Train {
        #[arg(long, value_name = "PATH")]
        corpus: PathBuf,
        #[arg(long, value_name = "FILE", default_value = "models/spam.json")]
        out: PathBuf,
        /// A text file saying where the corpus comes from, its licence and what to cite: it
        /// goes into the model's header (`about`).
        #[arg(long, value_name = "FILE")]
        about: Option<PathBuf>,
        /// The host of the site the comments were left on (repeat for several): links there
        /// are the site's own. Files in YouTube's export layout need none (youtube.com,
        /// youtu.be).
        #[arg(long = "site-host", value_name = "HOST")]
        site_hosts: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum RelatedCommand {
    /// Show an article's related list (by slug).
    Show { article: String },
    /// Always show RELATED on ARTICLE's list (pins come first, in the order pinned).
    Pin { article: String, related: String },
    /// Never show RELATED on ARTICLE's list.
    Exclude { article: String, related: String },
    /// Remove a pin or exclusion.
    Clear { article: String, related: String },
}

#[derive(Debug, Subcommand)]
enum EvalCommand {
    /// Precision and recall of the spam filter, beside multinomial naive Bayes and logistic
    /// regression: on a held-out fifth of a corpus (`--corpus`; the split is fixed by a hash of
    /// each text), on one set after training on another (`--train` and `--test`), or with each
    /// file of a folder in turn as the test set (`--leave-one-out`), averaged.
    Spam {
        #[arg(long, value_name = "PATH", conflicts_with_all = ["train", "leave_one_out"])]
        corpus: Option<PathBuf>,
        #[arg(long, value_name = "PATH", requires = "test")]
        train: Option<PathBuf>,
        #[arg(long, value_name = "PATH", requires = "train")]
        test: Option<PathBuf>,
        #[arg(long, value_name = "DIR", conflicts_with = "train")]
        leave_one_out: Option<PathBuf>,
        /// One JSON line per test comment: id, spam (the label), score (Gazette's spam
        /// probability), held (the filter, as shipped, would not publish it as is).
        #[arg(long, value_name = "FILE")]
        dump: Option<PathBuf>,
        /// The host of the site the comments were left on (repeat for several), as for
        /// `gazette spam train`.
        #[arg(long = "site-host", value_name = "HOST")]
        site_hosts: Vec<String>,
    },
    /// Related posts against a labelled JSON Lines corpus, with two baselines (docs/RELEVANCE.md).
    Related {
        #[arg(long, value_name = "FILE")]
        corpus: PathBuf,
        /// The field whose equal values mark related articles.
        #[arg(long, default_value = "story_id")]
        label: String,
        /// Unlabelled articles mixed in (never relevant).
        #[arg(long, value_name = "FILE")]
        distractors: Option<PathBuf>,
        /// Write each article's external id and its top six as JSON Lines.
        #[arg(long, value_name = "FILE")]
        dump: Option<PathBuf>,
    },
    /// The related-posts model by leave-one-corpus-out over the shared story corpora: every
    /// fold beside the TF-IDF x time decay baseline, then the weights fitted on all of them.
    Loco {
        /// The shared data folder (`../shared/data`).
        #[arg(long, value_name = "DIR", default_value = "../shared/data")]
        data: PathBuf,
    },
    /// Search: known-item MRR and story nDCG@10, against a WordPress-style baseline.
    Search {
        #[arg(long, value_name = "FILE")]
        corpus: PathBuf,
        #[arg(long, default_value = "story_id")]
        label: String,
        /// At most this many queries (spread evenly over the corpus).
        #[arg(long, default_value_t = 2000)]
        queries: usize,
        /// Write one JSON line per query: the article's external id, the query, and the rank
        /// (1-based, null past 100) of the article in Gazette's and the baseline's results.
        #[arg(long, value_name = "FILE")]
        dump: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// A file written by `gazette export json`, into an empty store, in one transaction.
    Json {
        /// The file to read.
        file: PathBuf,
    },
    /// A WordPress export (WXR 1.0-1.2): posts, pages, authors, categories, tags, comments,
    /// attachments (recorded by URL) and old addresses; streamed; a second run changes nothing.
    Wordpress {
        /// The export file (Tools → Export in WordPress).
        file: PathBuf,
        /// Then copy the site's images from the old host (as `gazette media fetch` does).
        #[arg(long)]
        fetch_media: bool,
        #[command(flatten)]
        fetch: FetchArgs,
    },
    /// Articles from JSON Lines (id, title, text, published, category, author, tags), as
    /// scrapers and the news corpora write them; ids already present are skipped.
    Jsonl {
        /// The file to read.
        file: PathBuf,
    },
}

/// Reads a password from the terminal (twice, without echo) or one line of standard input.
fn read_password() -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal};
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password again: ")?;
        anyhow::ensure!(first == again, "the passwords differ");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

async fn user(config: &Config, action: UserCommand) -> anyhow::Result<()> {
    let db = app::open_store(config).await?;
    let result = match action {
        UserCommand::Add { email, name, role } => {
            let password = read_password()?;
            accounts::create_user(&db, &email, &name, role, &password).await.map(|_| {
                println!("created {role} {email}; sign in at /admin");
            })
        }
        UserCommand::ResetPassword { email } => {
            let password = read_password()?;
            accounts::reset_password(&db, &email, &password).await.map(|()| {
                println!("password changed for {email}; their sessions have ended");
            })
        }
        UserCommand::Token { email, name, scopes } => user_token(&db, &email, &name, &scopes).await,
        UserCommand::List => users::list(&db).await.map(|list| {
            if list.is_empty() {
                println!("no users yet: gazette user add --email E --name N --role administrator");
            }
            for u in list {
                println!("{:<32} {:<14} {}", u.email, u.role, u.name);
            }
        }),
    };
    db.close().await;
    result
}

async fn user_token(
    db: &gazette::storage::Db,
    email: &str,
    name: &str,
    scopes: &[String],
) -> anyhow::Result<()> {
    let address = gazette::domain::Email::parse(email).map_err(anyhow::Error::msg)?;
    let user =
        users::find_by_email(db, &address).await?.with_context(|| format!("there is no user {email}"))?;
    let role: Role = user.role.parse().map_err(anyhow::Error::msg)?;
    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    match gazette::web::api::auth::issue(db, user.id, role, name, &scopes).await {
        Ok(secret) => {
            println!("{secret}");
            eprintln!("token {name:?} for {email}: shown once; revoke it in the admin under API tokens");
            Ok(())
        }
        Err(gazette::web::api::auth::IssueError::Refused(why)) => anyhow::bail!("{why}"),
        Err(gazette::web::api::auth::IssueError::Internal(e)) => Err(e),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("GAZETTE_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let listen = match &cli.command {
        Command::Serve { listen, .. } => *listen,
        _ => None,
    };
    let config = Config::resolve(&Overrides {
        config: cli.config,
        data_dir: cli.data_dir,
        database_url: cli.database_url,
        listen,
    })?;
    match cli.command {
        Command::Serve { demo, no_pictures, .. } => serve(&config, demo, !no_pictures).await,
        Command::Migrate => {
            let db = app::open_store(&config).await?;
            db.close().await;
            println!("{} is up to date", config.store.describe());
            Ok(())
        }
        Command::Demo { no_pictures } => {
            let db = app::open_store(&config).await?;
            let report = gazette::demo::load(&db).await?;
            let pictures = if no_pictures {
                0
            } else {
                let store = gazette::media::store::MediaStore::open(&config.media, &config.data_dir)?;
                gazette::demo::load_pictures(&db, &store).await?
            };
            db.close().await;
            println!("{report}; {pictures} pictures added");
            Ok(())
        }
        Command::User { action } => user(&config, action).await,
        Command::Export { format: ExportCommand::Json { out } } => {
            let db = app::open_store(&config).await?;
            let tmp = out.with_extension("part");
            let file =
                std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
            let mut writer = std::io::BufWriter::new(file);
            let written = gazette::transfer::export(&db, &mut writer).await;
            db.close().await;
            let n = written?;
            drop(writer);
            std::fs::rename(&tmp, &out).with_context(|| format!("cannot write {}", out.display()))?;
            println!("exported {n} records to {}", out.display());
            Ok(())
        }
        Command::Export { format: ExportCommand::Wordpress { out, base_url } } => {
            let db = app::open_store(&config).await?;
            let base = base_url.or(config.base_url.clone()).unwrap_or_else(|| "http://localhost".to_owned());
            let tmp = out.with_extension("part");
            let file =
                std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
            let mut writer = std::io::BufWriter::new(file);
            let written = gazette::wordpress::export(&db, &base, &mut writer).await;
            db.close().await;
            let n = written?;
            drop(writer);
            std::fs::rename(&tmp, &out).with_context(|| format!("cannot write {}", out.display()))?;
            println!("exported {n} records to {} (WXR 1.2)", out.display());
            Ok(())
        }
        Command::Import { format: ImportCommand::Json { file } } => {
            let input =
                std::fs::File::open(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let db = app::open_store(&config).await?;
            let report = gazette::transfer::import(&db, std::io::BufReader::new(input)).await;
            db.close().await;
            println!("{}", report.with_context(|| format!("importing {}", file.display()))?);
            Ok(())
        }
        Command::Spam { action: SpamCommand::Train { corpus, out, about, site_hosts } } => {
            let site = (!site_hosts.is_empty()).then_some(site_hosts.as_slice());
            let labelled = gazette::spam::load_corpus(&corpus, site)?;
            let about = match about {
                Some(file) => std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?
                    .trim()
                    .to_owned(),
                None => String::new(),
            };
            let model = gazette::spam::Logistic::calibrated(&labelled);
            let shipped = gazette::spam::ShippedModel {
                about,
                comments: labelled.len(),
                spam: labelled.iter().filter(|c| c.spam).count(),
                model: Some(model),
            };
            let json = serde_json::to_string(&shipped)?;
            std::fs::write(&out, json + "\n").with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "trained on {} comments ({} spam), {} features, spam marked from raw score {:.3}; wrote {}",
                shipped.comments,
                shipped.spam,
                shipped.model.as_ref().map_or(0, |m| m.features.len()),
                shipped.model.as_ref().map_or(0.0, |m| m.spam_at),
                out.display()
            );
            Ok(())
        }
        Command::Eval {
            what: EvalCommand::Spam { corpus, train, test, leave_one_out, dump, site_hosts },
        } => {
            let site = (!site_hosts.is_empty()).then_some(site_hosts.as_slice());
            let runs =
                gazette::spam::runs(corpus.as_deref(), train.zip(test), leave_one_out.as_deref(), site)?;
            eval_spam(&runs, dump.as_deref())
        }
        Command::Import { format: ImportCommand::Jsonl { file } } => {
            let input =
                std::fs::File::open(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let db = app::open_store(&config).await?;
            let report = gazette::jsonl::import(&db, std::io::BufReader::new(input), |n| {
                eprint!("\r{n} articles imported");
            })
            .await;
            eprintln!();
            db.close().await;
            let report = report.with_context(|| format!("importing {}", file.display()))?;
            for (line, missing) in &report.incomplete {
                eprintln!("line {line}: skipped, {missing}");
            }
            println!("{report}");
            println!("run `gazette reindex` (or start the server) for search and related posts");
            Ok(())
        }
        Command::Import { format: ImportCommand::Wordpress { file, fetch_media, fetch } } => {
            let db = app::open_store(&config).await?;
            let report = gazette::wordpress::import(&db, &file, |r| {
                let total: usize = r.counts.values().sum();
                eprint!(
                    "\r{total} records imported ({} articles, {} comments)   ",
                    r.counts.get("articles").unwrap_or(&0),
                    r.counts.get("comments").unwrap_or(&0)
                );
            })
            .await;
            eprintln!();
            let report = report.with_context(|| format!("importing {}", file.display()));
            let report = match report {
                Ok(report) if fetch_media => {
                    print!("{report}");
                    fetch_media_command(&db, &config, &fetch).await
                }
                Ok(report) => {
                    print!("{report}");
                    println!(
                        "images stay at their original addresses; `gazette media fetch` copies them here"
                    );
                    Ok(())
                }
                Err(err) => Err(err),
            };
            db.close().await;
            report?;
            println!("run `gazette reindex` (or start the server) for search and related posts");
            Ok(())
        }
        Command::Media { action: MediaCommand::Try { file } } => try_picture(&file),
        Command::Media { action: MediaCommand::Import { dir, credit } } => {
            let db = app::open_store(&config).await?;
            let store = gazette::media::store::MediaStore::open(&config.media, &config.data_dir)?;
            let report =
                gazette::media::library::import_dir(
                    &db,
                    &store,
                    &dir,
                    &credit,
                    |path, outcome| match outcome {
                        Ok(id) => println!("added   {} (picture {id})", path.display()),
                        Err(reason) => println!("refused {}: {reason}", path.display()),
                    },
                )
                .await;
            db.close().await;
            let report = report?;
            println!(
                "{} pictures added or already in the library, {} refused; they are processed by `gazette serve`",
                report.0, report.1
            );
            Ok(())
        }
        Command::Media { action: MediaCommand::Fetch { fetch } } => {
            let db = app::open_store(&config).await?;
            let result = fetch_media_command(&db, &config, &fetch).await;
            db.close().await;
            result
        }
        Command::Reindex => {
            let db = app::open_store(&config).await?;
            let engine = gazette::search::Engine::fresh(&config.data_dir.join("search"));
            let started = std::time::Instant::now();
            let result = engine.reindex(&db, progress_bar).await;
            eprintln!();
            db.close().await;
            result?;
            println!(
                "reindexed {} articles in {:.1} s (index {} MB on disk)",
                engine.len(),
                started.elapsed().as_secs_f64(),
                engine.disk_bytes() / 1_000_000
            );
            Ok(())
        }
        Command::Related { action } => related_command(&config, action).await,
        Command::Eval { what: EvalCommand::Loco { data } } => gazette::eval::loco::loco(&data).await,
        Command::Eval { what: EvalCommand::Related { corpus, label, distractors, dump } } => {
            let scores =
                gazette::eval::related(&corpus, &label, distractors.as_deref(), dump.as_ref()).await?;
            println!(
                "corpus: {} (label {label}){}",
                corpus.display(),
                distractors.as_ref().map(|d| format!(", distractors {}", d.display())).unwrap_or_default()
            );
            println!("| system | P@6 | nDCG@6 | MRR | articles scored |");
            println!("|---|---|---|---|---|");
            for s in scores {
                println!("{s}");
            }
            Ok(())
        }
        Command::Eval { what: EvalCommand::Search { corpus, label, queries, dump } } => {
            let rows = gazette::eval::search(&corpus, &label, queries, dump.as_deref()).await?;
            println!("corpus: {} (label {label})", corpus.display());
            println!("| system | known-item MRR | story nDCG@10 | known-item queries | story queries |");
            println!("|---|---|---|---|---|");
            for (name, mrr, ndcg, k, s) in rows {
                println!("| {name} | {mrr:.3} | {ndcg:.3} | {k} | {s} |");
            }
            Ok(())
        }
        Command::Generate { articles, seed, sample } => {
            let sample = sample.map(|p| gazette::generate::Sample::load(&p, 50_000)).transpose()?;
            if let Some(s) = &sample {
                println!("sampling the text of {} articles", s.len());
            }
            let db = app::open_store(&config).await?;
            gazette::generate::generate_from(&db, articles, seed, sample.as_ref()).await?;
            db.close().await;
            Ok(())
        }
    }
}

/// A one-line progress bar on standard error.
async fn fetch_media_command(
    db: &gazette::storage::Db,
    config: &Config,
    fetch: &FetchArgs,
) -> anyhow::Result<()> {
    println!("copying remote images into the picture library");
    let store = gazette::media::store::MediaStore::open(&config.media, &config.data_dir)?;
    let report =
        gazette::remote_media::fetch(db, &store, &config.data_dir, &fetch.options(config), |done, total| {
            progress_bar("media", done, total);
        })
        .await;
    eprintln!();
    let report = report.context("fetching media")?;
    print!("{report}");
    if report.fetched > 0 {
        println!("the new pictures are made into every size by `gazette serve` (any node)");
    }
    Ok(())
}

fn progress_bar(stage: &str, done: usize, total: usize) {
    let width = 30;
    let filled = (done * width).checked_div(total).map_or(width, |n| n.min(width));
    eprint!("\r{stage:>8} [{}{}] {done}/{total}   ", "=".repeat(filled), " ".repeat(width - filled));
}

async fn related_command(config: &Config, action: RelatedCommand) -> anyhow::Result<()> {
    let db = app::open_store(config).await?;
    let result = related_action(&db, action).await;
    db.close().await;
    result
}

async fn article_id(db: &gazette::storage::Db, slug: &str) -> anyhow::Result<i64> {
    let row: Option<(i64,)> =
        gazette::fetch_optional!(db, (i64,), "SELECT id FROM articles WHERE slug = $1", slug)?;
    row.map(|r| r.0).with_context(|| format!("no article with the slug {slug:?}"))
}

async fn related_action(db: &gazette::storage::Db, action: RelatedCommand) -> anyhow::Result<()> {
    use gazette::storage::related;
    let (article, other, kind) = match action {
        RelatedCommand::Show { article } => {
            let id = article_id(db, &article).await?;
            let (pins, excludes) = related::overrides(db, id).await?;
            for card in related::cards(db, id).await? {
                let mark = if pins.contains(&card.id) { " (pinned)" } else { "" };
                println!("{}  {}{mark}", card.slug, card.headline);
            }
            if !excludes.is_empty() {
                println!("excluded: {} article(s)", excludes.len());
            }
            return Ok(());
        }
        RelatedCommand::Pin { article, related } => (article, related, Some("pin")),
        RelatedCommand::Exclude { article, related } => (article, related, Some("exclude")),
        RelatedCommand::Clear { article, related } => (article, related, None),
    };
    let id = article_id(db, &article).await?;
    let other_id = article_id(db, &other).await?;
    anyhow::ensure!(id != other_id, "an article is never on its own related list");
    let mut tx = db.begin().await?;
    related::set_override(&mut tx, id, other_id, kind).await?;
    tx.commit().await?;
    println!(
        "{} {other:?} on {article:?}'s related list; running nodes apply it within seconds",
        match kind {
            Some("pin") => "pinned",
            Some(_) => "excluded",
            None => "cleared",
        }
    );
    Ok(())
}

async fn serve(config: &Config, demo: bool, demo_pictures: bool) -> anyhow::Result<()> {
    if demo {
        let db = app::open_store(config).await?;
        if gazette::storage::articles::count_published(&db).await? == 0 {
            let report = gazette::demo::load(&db).await?;
            tracing::info!("{report}");
        }
        let store = gazette::media::store::MediaStore::open(&config.media, &config.data_dir)?;
        let pictures = if demo_pictures { gazette::demo::load_pictures(&db, &store).await? } else { 0 };
        if pictures > 0 {
            tracing::info!("{pictures} demo pictures added; they are processed in the background");
        }
        db.close().await;
    }
    let app = App::build(config).await?;
    let addr = app.local_addr()?;
    tracing::info!(store = %config.store.describe(), "Gazette is serving http://{addr}/");
    if users::count(&app.state.db).await? == 0 {
        tracing::warn!(
            "no staff accounts yet; create the first administrator with: gazette {} user add --email YOU@EXAMPLE.COM --name \"YOUR NAME\" --role administrator",
            store_flags(config)
        );
    } else if demo {
        for (email, _, role) in gazette::demo::DEMO_ACCOUNTS {
            tracing::info!("demo account: {email} ({role}), password {}", gazette::demo::DEMO_PASSWORD);
        }
        tracing::info!("sign in at http://{addr}/admin");
    }
    app.run(shutdown_signal()).await
}

/// `gazette media try FILE`.
fn try_picture(file: &std::path::Path) -> anyhow::Result<()> {
    use gazette::media::process;
    let idle = peak_rss_kib();
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let started = std::time::Instant::now();
    let probe = process::check(&bytes, &name, gazette::media::library::MAX_BYTES)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let checked = started.elapsed();
    let image = process::prepare(&bytes)?;
    drop(bytes);
    let variants = process::variants(&image, (0.5, 0.5))?;
    let total = started.elapsed();
    println!(
        "{}: {} {} x {} (upright){}",
        name,
        probe.kind.name(),
        probe.width,
        probe.height,
        if probe.alpha { ", with transparency" } else { "" }
    );
    for v in &variants {
        println!("  {:<10} {:>8} bytes", v.name, v.bytes.len());
    }
    let peak = peak_rss_kib();
    println!(
        "checked in {:.0} ms; {} files made in {:.0} ms in all; peak memory {} MB ({} MB above the process before reading the file)",
        checked.as_secs_f64() * 1000.0,
        variants.len(),
        total.as_secs_f64() * 1000.0,
        peak / 1024,
        peak.saturating_sub(idle) / 1024
    );
    Ok(())
}

/// The process's peak resident memory (VmHWM), in KiB; 0 where /proc is not there.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

/// The flags that name this store, for commands printed to the operator.
fn store_flags(config: &Config) -> String {
    match &config.store {
        gazette::storage::StoreLocation::Sqlite(_) => format!("--data-dir {}", config.data_dir.display()),
        gazette::storage::StoreLocation::Postgres(_) => "--database-url URL".to_owned(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

/// `gazette eval spam`: the table, and the dump.
fn eval_spam(runs: &[gazette::spam::Run], dump: Option<&std::path::Path>) -> anyhow::Result<()> {
    use gazette::spam;
    use std::io::Write;
    let mut out = dump.map(std::fs::File::create).transpose()?.map(std::io::BufWriter::new);
    // system -> threshold -> summed (precision, recall, f1, accuracy)
    let mut sums: Vec<(&'static str, Vec<[f64; 4]>)> = Vec::new();
    for spam::Run { name, train, test } in runs {
        let spam_in = test.iter().filter(|c| c.spam).count();
        println!("test {name}: {} comments ({spam_in} spam), trained on {}", test.len(), train.len());
        let scored = spam::compare(train, test);
        for (k, s) in scored.iter().enumerate() {
            if sums.len() <= k {
                sums.push((s.system, vec![[0.0; 4]; spam::THRESHOLDS.len()]));
            }
            for (t, &threshold) in spam::THRESHOLDS.iter().enumerate() {
                let (p, r, f, a) = spam::metrics(&s.scores, threshold);
                for (acc, v) in sums[k].1[t].iter_mut().zip([p, r, f, a]) {
                    *acc += v;
                }
            }
        }
        if let Some(out) = out.as_mut() {
            for (c, (score, _)) in test.iter().zip(&scored[0].scores) {
                let line = serde_json::json!({
                    "id": c.id, "spam": c.spam, "score": score, "held": *score >= spam::HOLD_ABOVE,
                });
                writeln!(out, "{line}")?;
            }
        }
    }
    let n = runs.len() as f64;
    if runs.len() > 1 {
        println!("\naverage over {} test files (each tested after training on the others)", runs.len());
    }
    println!("| system | spam probability >= | precision | recall | F1 | accuracy |");
    println!("|---|---|---|---|---|---|");
    for (system, by_threshold) in &sums {
        for (t, v) in by_threshold.iter().enumerate() {
            println!(
                "| {system} | {:.2} | {:.3} | {:.3} | {:.3} | {:.3} |",
                spam::THRESHOLDS[t],
                v[0] / n,
                v[1] / n,
                v[2] / n,
                v[3] / n
            );
        }
    }
    println!(
        "Gazette marks spam at {:.2} and holds for a moderator at {:.2}.",
        spam::SPAM_ABOVE,
        spam::HOLD_ABOVE
    );
    Ok(())
}
