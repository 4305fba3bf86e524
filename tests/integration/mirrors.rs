//! A selection strategy has mirrors kept in step by hand: the route a
//! decision names, the snapshot's byte code, the C enum and the header.
//! This test walks every strategy serde knows of through the Rust ones, so a
//! new strategy that misses one fails here instead of in a user's build; the
//! C enum and the header are checked for every route serde knows of by
//! `every_route_has_its_c_enum_value_and_header_line` in
//! `src/ffi/engine/tests.rs` (feature `ffi`).

use crate::common::*;
use switchboard::engine::{Route, Snapshot};
use switchboard::policy::IdleClock;
use switchboard::prelude::*;

/// One value of every strategy. Checked against serde's own variant list
/// below, so a strategy missing here fails the test too.
fn every_selection() -> Vec<Selection> {
    vec![
        Selection::LeastLoaded,
        Selection::LongestIdle {
            clock: IdleClock::default(),
        },
        Selection::RoundRobin,
        Selection::MostProficient,
        Selection::FewestConversations,
        Selection::Ring,
        Selection::FixedOrder,
        Selection::SkillDevelopment {
            demanding_skills: vec![BILLING],
            share_permille: 1000,
        },
        Selection::FewestHandled,
        Selection::OrderBy {
            keys: vec![switchboard::policy::OrderKey::descending(
                switchboard::policy::OperatorAttribute::Level(BILLING),
            )],
        },
    ]
}

/// The variant names serde derives, read from its "expected one of" error.
fn serde_variant_names() -> Vec<String> {
    let err = serde_json::from_str::<Selection>("\"no_such_strategy\"")
        .unwrap_err()
        .to_string();
    let list = err
        .split("expected one of ")
        .nth(1)
        .expect("a variant list");
    list.split(", ")
        .map(|s| s.trim_matches(|c: char| c == '`' || !c.is_ascii() || c.is_whitespace()))
        .map(|s| s.split('`').next().unwrap_or(s).to_string())
        .collect()
}

fn camel(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| w[..1].to_uppercase() + &w[1..])
        .collect()
}

#[test]
fn every_strategy_reaches_every_mirror() {
    let all = every_selection();
    let mut names: Vec<&str> = all.iter().map(Selection::name).collect();
    names.sort_unstable();
    let mut serde_names = serde_variant_names();
    serde_names.sort_unstable();
    assert_eq!(names, serde_names, "every_selection() lists every strategy");

    let mut routes = Vec::new();
    for sel in all {
        let name = sel.name();
        let mut p = policy();
        p.selection = sel.clone();
        let mut e = engine_with(p);
        add(&mut e, t(0), op(1).skill(BILLING, 1));
        arrive(&mut e, t(0), chat(1, SMB).skill(BILLING, 1));
        let ds = e.assign(t(0)).unwrap();
        assert_eq!(ds.len(), 1, "{name}: one decision");
        let route: Route = ds[0].reason.route;
        assert_eq!(
            route.as_str(),
            name,
            "{name}: the decision names its strategy"
        );
        let json = serde_json::to_string(&route).unwrap();
        assert_eq!(json, format!("\"{name}\""), "{name}: route serde name");

        let bytes = e.snapshot().to_bytes();
        let back = Snapshot::from_bytes(&bytes).unwrap();
        assert_eq!(back.policy.selection, sel, "{name}: snapshot bytes keep it");
        let restored = Engine::restore(back).unwrap();
        assert_eq!(restored.state_hash(), e.state_hash(), "{name}: restore");
        assert_eq!(format!("{route:?}"), camel(name), "{name}: Route variant");
        routes.push(route);
    }
    routes.sort_unstable_by_key(|r| r.as_str());
    routes.dedup();
    assert_eq!(routes.len(), 10, "distinct routes");
}
