//! Gazette: a self-hosted news publishing platform. See ARCHITECTURE.md for the map.

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
pub mod related;
pub mod remote_media;
pub mod search;
pub mod site;
pub mod spam;
pub mod storage;
pub mod theme;
pub mod transfer;
pub mod web;
pub mod websub;
pub mod wordpress;
