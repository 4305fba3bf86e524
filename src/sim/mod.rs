//! Discrete-event simulation of a contact center (foundation).
//!
//! The simulator itself comes later; this module holds what it draws its
//! randomness from, so that every run is reproducible from one seed:
//!
//! * [`rng`] — the generator (xoshiro256++ seeded by SplitMix64), its
//!   serialisable state and per-replication streams;
//! * [`dist`] — exponential, log-normal, fixed and weighted-choice
//!   distributions, and the [`dist::DurationDist`] form scenario files use.

pub mod dist;
pub mod report;
pub mod rng;
pub mod run;
pub mod scenario;
