//! Scan, compaction, argmin/argmax and histograms on both paths: each
//! against a reference written here, over random data with NaN and
//! infinities, odd lengths and every dtype, on 1 and 2 threads and on
//! the GPU (lavapipe in CI), over host slices and resident arrays.

mod common;

#[path = "primitives/argbest.rs"]
mod argbest;
#[path = "primitives/filter.rs"]
mod filter;
#[path = "primitives/histogram.rs"]
mod histogram;
#[path = "primitives/resident.rs"]
mod resident;
#[path = "primitives/scan.rs"]
mod scan;
