//! One integration binary (fewer links on a 2-core machine), one module per area.

mod assign;
mod common;
mod errors;
mod props;
mod random;
mod rebalance;
mod replay;
mod sim;
mod staffing;
