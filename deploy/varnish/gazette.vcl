vcl 4.1;

# Varnish in front of Gazette. Gazette's public pages and feeds carry `Surrogate-Key`; after
# each content event Gazette sends `PURGE` with the keys to drop (config file:
# `[[http_cache.purge]]`, `kind = "varnish"`, `url = "http://127.0.0.1:6081/"`), and this VCL
# bans every stored object filed under one of them. Nothing else needs invalidating: pages keep
# for `s-maxage` otherwise. See docs/OPERATIONS.md.

import std;

backend gazette {
    .host = "127.0.0.1";
    .port = "3000";
    .connect_timeout = 1s;
    .first_byte_timeout = 15s;
    .probe = {
        .url = "/robots.txt";
        .interval = 1s;
        .timeout = 1s;
        .window = 3;
        .threshold = 2;
    }
}

# Who may purge: Gazette's nodes (add their addresses).
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (req.http.Surrogate-Key !~ "^[a-z0-9 -]+$") {
            return (synth(400, "Surrogate-Key: keys of a-z, 0-9 and -, separated by spaces"));
        }
        ban("obj.http.Surrogate-Key ~ (^|\s)(" + regsuball(req.http.Surrogate-Key, " +", "|") + ")(\s|$)");
        return (synth(200, "Purged"));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # Staff pages, comment posting and previews are never kept.
    if (req.url ~ "^/(admin|comments|preview)(/|\?|$)") {
        return (pass);
    }
    # Tracking parameters (utm_*, fbclid, gclid, mc_cid ...) change nothing on a page: dropped,
    # so that one copy serves every shared link; the rest sorted, so that one order is one copy.
    # The same list as Gazette's own page cache (src/web/cache/address.rs).
    if (req.url ~ "\?") {
        set req.url = regsuball(req.url, "(?i)([?&])(utm_[a-z0-9_]*|mtm_[a-z0-9_]*|pk_[a-z0-9_]*|_hs[a-z0-9_]*|fbclid|gclid|gclsrc|dclid|gbraid|wbraid|msclkid|yclid|twclid|ttclid|li_fat_id|igshid|mc_cid|mc_eid|_ga|_gl|ref_src|ref_url|ocid|mkt_tok|s_cid|cmpid|oly_anon_id|oly_enc_id|rb_clickid|vero_id|wickedid|ncid|sr_share|at_medium|at_campaign|ito|xtor)(=[^&]*)?(?=&|$)", "\1");
        set req.url = regsuball(req.url, "&&+", "&");
        set req.url = regsub(req.url, "\?&", "?");
        set req.url = regsub(req.url, "[?&]$", "");
        set req.url = std.querysort(req.url);
    }
    # Public pages are the same for every reader: cookies play no part in them.
    unset req.http.Cookie;
    # While Gazette answers, serve an expired copy for at most a minute while fetching a new
    # one; when it does not, serve what there is (up to the page's stale-if-error).
    if (std.healthy(req.backend_hint)) {
        set req.grace = 60s;
    }
    return (hash);
}

sub vcl_backend_response {
    # Keep only what Gazette files under surrogate keys, and its immutable files.
    if (!beresp.http.Surrogate-Key && beresp.http.Cache-Control !~ "immutable") {
        set beresp.uncacheable = true;
        set beresp.ttl = 0s;
        return (deliver);
    }
    if (beresp.http.Cache-Control ~ "stale-if-error=[0-9]+") {
        set beresp.grace = std.duration(regsub(beresp.http.Cache-Control, ".*stale-if-error=([0-9]+).*", "\1s"), 60s);
    }
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
    # The keys are for caches, not readers.
    unset resp.http.Surrogate-Key;
}
