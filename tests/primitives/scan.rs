//! Tests of scan (to come).
