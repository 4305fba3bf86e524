//! Proficiency index and balanced teams (Cloudgate's method, described in the
//! `switchboard::proficiency` module docs).
//!
//! Fifteen operators handle a week of chats; the KPI report gives each operator's handled
//! count, handle time, first response time and satisfaction, and the caller adds a
//! conversion rate. The proficiency index scores them against targets, splits them into
//! Low / Middle / High, builds three teams of five with the levels evenly mixed, and writes
//! the measured proficiency back to the routing engine as skill levels.
//!
//! Run: `cargo run --example teams`

use std::collections::BTreeMap;

use switchboard::kpi::{ConversationRecord, KpiAccumulator, KpiConfig};
use switchboard::model::OperatorSpec;
use switchboard::proficiency::{
    Bands, Direction, Indicator, LevelRule, Metric, MetricTable, Scoring, build_teams, skill_events,
};
use switchboard::{ChannelId, ConversationId, Event, OperatorId, SkillId, TierId, Timestamp};

const CHAT: ChannelId = ChannelId(1);
const BILLING: SkillId = SkillId(1);
const CONVERSION: Metric = Metric::Custom(1);

/// A small deterministic generator (splitmix64), so the example prints the same every time.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A week of records: operator i has an experience factor that shapes volume and speed.
    let mut rng = Rng(2024);
    let mut acc = KpiAccumulator::new(KpiConfig::default())?;
    let mut conversion = BTreeMap::new();
    let mut id = 0;
    for op in 1..=15_u64 {
        let experience = 1 + (op * 3) % 5; // 1 (new) … 5 (veteran), three of each
        let handled = 40 + experience * 12 + rng.below(20);
        for k in 0..handled {
            id += 1;
            let asked = k * 600_000 + rng.below(60_000);
            let mut r =
                ConversationRecord::new(ConversationId(id), CHAT, TierId(1), Timestamp(asked));
            r.operator = Some(OperatorId(op));
            let wait = 5_000 + rng.below(30_000);
            r.assigned_at = Some(Timestamp(asked + wait));
            r.first_response_at = Some(Timestamp(
                asked + wait + 20_000 + rng.below(150_000 / experience),
            ));
            r.resolved_at = Some(Timestamp(
                asked + wait + 240_000 + rng.below(900_000 / experience),
            ));
            if rng.below(3) == 0 {
                let csat = 2 + experience.min(3) + rng.below(2) - u64::from(experience < 5);
                r.satisfaction = Some(csat.min(5) as u8);
            }
            acc.push(&r)?;
        }
        conversion.insert(
            OperatorId(op),
            0.04 + 0.01 * experience as f64 + rng.below(20) as f64 / 1000.0,
        );
    }
    let report = acc.report();

    // The proficiency index: targets and weights chosen by the team lead.
    let mut table = MetricTable::from_report(&report);
    for (&op, &c) in &conversion {
        table.set(op, CONVERSION, c)?;
    }
    let scoring = Scoring::new(vec![
        Indicator::new(Metric::Handled, 90.0, Direction::HigherIsBetter, 2.0),
        Indicator::new(
            Metric::MeanHandleMs,
            480_000.0,
            Direction::LowerIsBetter,
            1.0,
        ),
        Indicator::new(
            Metric::MeanFirstResponseMs,
            60_000.0,
            Direction::LowerIsBetter,
            1.0,
        ),
        Indicator::new(
            Metric::SatisfactionMean,
            4.5,
            Direction::HigherIsBetter,
            2.0,
        ),
        Indicator::new(CONVERSION, 0.08, Direction::HigherIsBetter, 1.0),
    ])?;
    let scores = scoring.score(&table)?;
    let bands = Bands::default();

    println!("operator   handled  handle  FRT    CSAT  conv   score  band");
    for s in &scores {
        let row = |m| table.get(s.operator, m).unwrap_or(f64::NAN);
        let score = s.score.unwrap_or(0.0);
        println!(
            "{:<10} {:>7} {:>5.1}m {:>5.1}s {:>5.2} {:>5.3}  {:>5.3}  {}",
            s.operator.0,
            row(Metric::Handled),
            row(Metric::MeanHandleMs) / 60_000.0,
            row(Metric::MeanFirstResponseMs) / 1000.0,
            row(Metric::SatisfactionMean),
            row(CONVERSION),
            score,
            bands.name(bands.classify(score)).unwrap_or("?"),
        );
    }

    // Teams of five with the levels evenly mixed.
    let plan = build_teams(&bands.members(&scores), 5, bands.len())?;
    println!();
    for (i, team) in plan.teams.iter().enumerate() {
        let mix: Vec<String> = bands
            .names()
            .iter()
            .zip(&team.band_counts)
            .map(|(name, n)| format!("{name} {n}"))
            .collect();
        let members: Vec<String> = team
            .members
            .iter()
            .map(|m| format!("#{} ({:.2})", m.operator.0, m.score))
            .collect();
        println!(
            "team {}: total {:.3}  [{}]  {}",
            i + 1,
            team.total,
            mix.join(", "),
            members.join(" ")
        );
    }
    println!(
        "objective: band spread {}, score spread {:.4}",
        plan.objective.band_spread, plan.objective.score_spread
    );

    // Write-back: everyone holds billing at level 3 today; measured proficiency moves it
    // (by score: below 0.6 → 1 … from 1.2 → 5), at most one level per review.
    let operators: Vec<OperatorSpec> = (1..=15)
        .map(|op| OperatorSpec::new(OperatorId(op)).skill(BILLING, 3))
        .collect();
    let rule = LevelRule::default().with_max_step(1)?;
    let per_skill = BTreeMap::from([(BILLING, scores)]);
    let events = skill_events(Timestamp(7 * 24 * 3_600_000), &operators, &per_skill, &rule)?;
    println!();
    println!("write-back ({} operators change level):", events.len());
    for e in &events {
        if let Event::OperatorSkillsChanged {
            operator, skills, ..
        } = e
        {
            let levels: Vec<String> = skills
                .iter()
                .map(|s| format!("{} → level {}", s.skill, s.level))
                .collect();
            println!("  {operator}: {}", levels.join(", "));
        }
    }
    Ok(())
}
