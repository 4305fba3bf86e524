//! The wall board: one static page for team leads (`GET /board`), and the
//! per-tier and per-route figures it shows, added to `/wallboard`.
//!
//! The page is `assets/board.html`, compiled in. It needs no key to load;
//! it takes the tenant and its API key from the URL fragment (never sent to
//! a server) or a form, and reads the tenant's endpoints with that key.

use axum::http::header;
use axum::response::{Html, IntoResponse};
use serde_json::{Value, json};
use switchboard::Engine;
use switchboard::engine::RealTime;

/// The page, as served.
const PAGE: &str = include_str!("../assets/board.html");

/// `GET /board`: the static page. Its script and style are inline and it
/// loads nothing from elsewhere; the policy says so to the browser.
pub async fn page() -> impl IntoResponse {
    (
        [
            (header::CACHE_CONTROL, "no-cache"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                 connect-src 'self'; img-src 'self' data:; form-action 'self'; \
                 base-uri 'none'; frame-ancestors 'none'",
            ),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        Html(PAGE),
    )
}

/// Per tier (policy order): name, first-response target, waiting, the longest current wait in
/// milliseconds (`null` when none waits); per route (the real-time picture's
/// queues, the default one first): name, waiting, offered, with an operator
/// and the longest wait. Waits are at the engine's time (`real_time.at`).
pub fn figures(e: &Engine, rt: &RealTime) -> (Value, Value) {
    let now = e.now();
    let policy = e.policy();
    // (waiting, longest) per tier, in policy order.
    let mut tiers: Vec<(u32, Option<u64>)> = vec![(0, None); policy.tiers.len()];
    for id in e.waiting() {
        let Some(c) = e.conversation(id) else {
            continue;
        };
        let Some(i) = policy.tiers.iter().position(|t| t.id == c.spec.tier) else {
            continue;
        };
        let wait = c.asked_at.map(|a| now.since(a).0);
        let (n, longest) = &mut tiers[i];
        *n += 1;
        if let Some(w) = wait {
            *longest = Some(longest.map_or(w, |l: u64| l.max(w)));
        }
    }
    let by_tier = policy
        .tiers
        .iter()
        .zip(tiers)
        .map(|(t, (waiting, longest))| {
            json!({"tier": t.id.0, "name": t.name, "target_ms": t.first_response_target.0,
                   "waiting": waiting, "longest_wait_ms": longest})
        })
        .collect();
    let by_route = rt
        .queues
        .iter()
        .map(|q| {
            let name = match q.queue {
                None => "default".to_string(),
                Some(id) => policy
                    .queues
                    .iter()
                    .find(|s| s.id == id)
                    .map_or_else(|| format!("queue {}", id.0), |s| s.name.clone()),
            };
            json!({
                "queue": q.queue.map(|id| id.0),
                "name": name,
                "waiting": q.waiting,
                "offered": q.offered,
                "with_operator": q.with_operator,
                "longest_wait_ms": q.longest_wait.map(|(_, w)| w.0),
            })
        })
        .collect();
    (Value::Array(by_tier), Value::Array(by_route))
}
