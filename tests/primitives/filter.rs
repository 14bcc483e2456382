//! Tests of filter (to come).
