//! Gazette: a self-hosted news publishing platform. See ARCHITECTURE.md for the map.

/// mimalloc: a page is rendered into fresh strings and vectors of every size and freed at
/// once; glibc's allocator spent a third of an uncached page's time on that (consolidating free
/// chunks), mimalloc's per-thread free lists a fraction of it (docs/PERFORMANCE.md). In the
/// library, so the binary, the tests and the benchmarks run on the same allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod accounts;
pub mod app;
pub mod comments;
pub mod config;
pub mod content;
pub mod demo;
pub mod domain;
pub mod eval;
pub mod generate;
pub mod jsonl;
pub mod media;
pub mod outbound;
pub mod related;
pub mod remote_media;
pub mod search;
pub mod signing;
pub mod site;
pub mod spam;
pub mod storage;
pub mod theme;
pub mod transfer;
pub mod web;
pub mod webhooks;
pub mod websub;
pub mod wordpress;
