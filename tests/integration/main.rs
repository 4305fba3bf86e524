//! One integration binary (fewer links on a 2-core machine), one module per area.

mod assign;
mod bank;
mod common;
mod doc_refs;
mod encodings;
mod errors;
mod fuzz_regressions;
mod kpi;
mod kpi_queues;
mod layers;
mod mirrors;
mod occupancy;
mod policy_change;
mod proficiency;
mod props;
mod queues;
mod random;
mod rebalance;
mod recorded;
mod replay;
mod reported;
mod semantics;
mod sim;
mod sim_fit;
mod sim_queues;
mod staffing;
