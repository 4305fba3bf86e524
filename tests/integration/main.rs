//! One integration binary (fewer links on a 2-core machine), one module per area.

mod assign;
mod common;
mod errors;
mod proficiency;
mod random;
mod rebalance;
mod replay;
mod semantics;
mod sim;
mod staffing;
