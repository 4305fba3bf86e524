//! One integration binary (fewer links on small machines); one module per area.

mod random;
mod staffing;
