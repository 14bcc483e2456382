//! The size of the CPU's last-level cache: it decides how large the
//! memory measurement must be to miss it, and up to which size the cost
//! model predicts a pool job at the caches' speed. Read from Linux's
//! sysfs; elsewhere, or when sysfs says nothing, a desktop's L3 is assumed.

use std::path::Path;

/// Bytes assumed when the cache cannot be read: a desktop's L3.
const ASSUMED: u64 = 16 << 20;

/// Where Linux describes the caches of the first CPU, one `index*` folder each.
const SYSFS: &str = "/sys/devices/system/cpu/cpu0/cache";

/// Bytes of the last-level cache the first CPU uses.
pub(super) fn bytes() -> u64 {
    from_sysfs(Path::new(SYSFS)).unwrap_or(ASSUMED)
}

/// The size of the highest-level data or unified cache described in
/// `dir`, if any.
fn from_sysfs(dir: &Path) -> Option<u64> {
    let mut last: Option<(u32, u64)> = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        if !entry.file_name().to_string_lossy().starts_with("index") {
            continue;
        }
        let read = |name: &str| std::fs::read_to_string(entry.path().join(name)).ok();
        if read("type").is_some_and(|kind| kind.trim() == "Instruction") {
            continue;
        }
        let level = read("level").and_then(|level| level.trim().parse::<u32>().ok());
        let size = read("size").and_then(|size| parse_size(&size));
        if let (Some(level), Some(size)) = (level, size) {
            if last.is_none_or(|(highest, _)| level > highest) {
                last = Some((level, size));
            }
        }
    }
    last.map(|(_, size)| size).filter(|&size| size > 0)
}

/// Bytes of a sysfs size: `49152K`, `48M`, `1G`, or plain bytes.
fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, ""),
    };
    let shift = match unit.trim() {
        "" => 0,
        "K" | "KB" | "KiB" => 10,
        "M" | "MB" | "MiB" => 20,
        "G" | "GB" | "GiB" => 30,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(1 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_read_in_their_units() {
        assert_eq!(parse_size("49152K\n"), Some(48 << 20));
        assert_eq!(parse_size("48M"), Some(48 << 20));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("12X"), None);
        assert_eq!(parse_size(""), None);
    }

    /// A fake sysfs folder: L1 data and instruction, L2, L3.
    #[test]
    fn the_highest_data_level_is_the_last() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let caches = [("index0", "1", "Data", "48K"), ("index1", "1", "Instruction", "32K")];
        let caches = caches.into_iter().chain([("index2", "2", "Unified", "2048K"), ("index3", "3", "Unified", "48M")]);
        for (index, level, kind, size) in caches {
            let folder = dir.path().join(index);
            std::fs::create_dir(&folder).expect("a cache folder");
            for (name, text) in [("level", level), ("type", kind), ("size", size)] {
                std::fs::write(folder.join(name), format!("{text}\n")).expect("a cache file");
            }
        }
        std::fs::create_dir(dir.path().join("uevent")).expect("an unrelated entry");
        assert_eq!(from_sysfs(dir.path()), Some(48 << 20));
        assert_eq!(from_sysfs(&dir.path().join("missing")), None);
        assert!(bytes() > 0);
    }
}
