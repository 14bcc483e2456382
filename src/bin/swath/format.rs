//! How numbers are shown: value lists, durations, byte counts and throughput.

use std::fmt::Display;
use std::time::Duration;

/// `[1, 4, 9]`: each value by its `Display`, so `4.0_f64` shows as `4` and `2.25` as `2.25`.
pub fn list<T: Display>(values: &[T]) -> String {
    let items: Vec<String> = values.iter().map(ToString::to_string).collect();
    format!("[{}]", items.join(", "))
}

/// The first `shown` values as a list, with `, ...` inside the bracket when there are more.
pub fn head<T: Display>(values: &[T], shown: usize) -> String {
    if values.len() <= shown {
        return list(values);
    }
    let listed = list(&values[..shown]);
    format!("{}, ...]", &listed[..listed.len() - 1])
}

/// A duration in the unit that keeps it readable: `850.0 us`, `42.17 ms`, `1.25 s`.
pub fn duration(elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    if seconds < 1e-3 {
        format!("{:.1} us", seconds * 1e6)
    } else if seconds < 1.0 {
        format!("{:.2} ms", seconds * 1e3)
    } else {
        format!("{seconds:.2} s")
    }
}

/// A byte count in decimal units: `4 B`, `400.0 MB`, `1.6 GB`.
pub fn bytes(count: u64) -> String {
    const UNITS: [(&str, f64); 3] = [("GB", 1e9), ("MB", 1e6), ("kB", 1e3)];
    UNITS
        .iter()
        .find(|(_, size)| count as f64 >= *size)
        .map_or_else(|| format!("{count} B"), |(unit, size)| format!("{:.1} {unit}", count as f64 / size))
}

/// Decimal gigabytes per second moved in `elapsed`; `None` for a time too short to measure.
pub fn gigabytes_per_second(count: u64, elapsed: Duration) -> Option<f64> {
    let seconds = elapsed.as_secs_f64();
    (seconds > 0.0).then(|| count as f64 / seconds / 1e9)
}

/// The median of `times` (the lower middle one for an even count); `None` when empty.
pub fn median(times: &[Duration]) -> Option<Duration> {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted.get((sorted.len().max(1) - 1) / 2).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_use_display() {
        assert_eq!(list(&[1.0_f64, 4.0, 2.25]), "[1, 4, 2.25]");
        assert_eq!(list::<u32>(&[]), "[]");
        assert_eq!(head(&[1, 2, 3, 4], 2), "[1, 2, ...]");
        assert_eq!(head(&[1, 2], 2), "[1, 2]");
    }

    #[test]
    fn units_stay_readable() {
        assert_eq!(duration(Duration::from_micros(850)), "850.0 us");
        assert_eq!(duration(Duration::from_micros(42_170)), "42.17 ms");
        assert_eq!(duration(Duration::from_millis(1250)), "1.25 s");
        assert_eq!(bytes(4), "4 B");
        assert_eq!(bytes(400_000_000), "400.0 MB");
        assert_eq!(gigabytes_per_second(2_000_000_000, Duration::from_secs(1)), Some(2.0));
        assert_eq!(gigabytes_per_second(1, Duration::ZERO), None);
    }

    #[test]
    fn median_takes_the_middle() {
        let ms = Duration::from_millis;
        assert_eq!(median(&[ms(3), ms(1), ms(2)]), Some(ms(2)));
        assert_eq!(median(&[ms(4), ms(1), ms(2), ms(3)]), Some(ms(2)));
        assert_eq!(median(&[]), None);
    }
}
