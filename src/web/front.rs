//! What a node serves: a page the page cache holds is answered before routing; every other
//! request goes to the router with the client's address.
//!
//! Answering hits here rather than in a layer of the router matters for speed: axum clones a
//! route's whole middleware stack (outage guard, error pages, headers, compression, timeout,
//! logging) for each request before the first layer runs, which cost more than the hit itself.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::Method;
use axum::response::Response;
use tower::{Service, ServiceExt};

use super::AppState;

#[derive(Clone)]
pub struct Front {
    state: AppState,
    router: Router,
    peer: Option<SocketAddr>,
}

impl Front {
    pub fn new(state: AppState) -> Self {
        Self { router: super::router(state.clone()), state, peer: None }
    }

    /// The same service for one connection, so handlers see the client's address.
    pub fn for_peer(&self, peer: SocketAddr) -> Self {
        Self { peer: Some(peer), ..self.clone() }
    }

    /// The page cache's answer to a request, if it holds one.
    pub(crate) fn hit(&self, request: &Request) -> Option<Response> {
        if request.method() != Method::GET {
            return None;
        }
        let key = request.uri().path_and_query().map_or("/", |p| p.as_str());
        Some(self.cached(key)?.respond(request.headers()))
    }

    /// The page cache's current copy of the page at `key` (a request's path and query, filed
    /// as [`super::cache::address::key`] says).
    pub(crate) fn cached(&self, key: &str) -> Option<std::sync::Arc<super::cache::Page>> {
        self.state.page_cache.as_ref()?.get(key, &self.state.site.get())
    }
}

impl Service<Request> for Front {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        if let Some(response) = self.hit(&request) {
            return Box::pin(std::future::ready(Ok(response)));
        }
        if let Some(peer) = self.peer {
            request.extensions_mut().insert(ConnectInfo(peer));
        }
        Box::pin(self.router.clone().oneshot(request))
    }
}
