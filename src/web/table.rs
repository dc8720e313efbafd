//! Route tables: each route written once, as a method, a path and a handler (and, for uploads,
//! a body limit). The router is built from the table, and the same table lists the routes, so
//! the role × route test (`tests/it/access.rs`) tries every route there is and fails on one that
//! has no rule.

/// `route_table!(NAME, builder; get "/path" => handler; post "/x" => h, limit N; ...)` defines
/// `pub const NAME: &[(&str, &str)]` (method, path) and `fn builder() -> Router<AppState>`.
macro_rules! route_table {
    ($list:ident, $builder:ident; $($method:ident $path:literal => $handler:expr $(, limit $limit:expr)?;)*) => {
        /// Every route of this table: `(method, path)`.
        pub const $list: &[(&str, &str)] = &[$((stringify!($method), $path)),*];

        fn $builder() -> axum::Router<crate::web::AppState> {
            let router = axum::Router::new();
            $(
                let router = router.route(
                    $path,
                    axum::routing::$method($handler)
                        $(.layer(axum::extract::DefaultBodyLimit::max($limit)))?,
                );
            )*
            router
        }
    };
}
