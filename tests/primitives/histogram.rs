//! Tests of histogram (to come).
