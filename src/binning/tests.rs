use super::*;

#[test]
fn values_on_an_edge_start_its_bin_and_hi_closes_the_last() {
    let binning = Binning::<f64>::equal_width(4, 0.0, 1.0);
    let bins: Vec<Option<usize>> =
        [0.0, 0.25, 0.2499, 0.5, 0.75, 1.0, 1.0001, -0.0, f64::NAN].map(|x| binning.bin(x)).to_vec();
    assert_eq!(bins, [Some(0), Some(1), Some(0), Some(2), Some(3), Some(3), None, Some(0), None]);
}

#[test]
fn f32_thresholds_round_up_so_comparisons_stay_exact() {
    // 0.1 is not an f32: the f32 just below it is in bin 0, the one just above in bin 1.
    let binning = Binning::<f32>::equal_width(10, 0.0, 1.0);
    let below = 0.1f64 as f32;
    let (below, above) = if (below as f64) < 0.1 { (below, below.next_up()) } else { (below.next_down(), below) };
    assert_eq!((binning.bin(below), binning.bin(above)), (Some(0), Some(1)));
    assert_eq!(binning.bin(f32::INFINITY), None);
}

#[test]
fn integers_fall_between_the_fractional_edges() {
    // Edges 0.5, 1.75, 3, 4.25 and 5.5: the integers 1, 2..=3 (3 is on an edge), 4, 5.
    let binning = Binning::<i32>::equal_width(4, 0.5, 5.5);
    let bins: Vec<Option<usize>> = (0..7).map(|x| binning.bin(x)).collect();
    assert_eq!(bins, [None, Some(0), Some(1), Some(2), Some(2), Some(3), None]);
    // More bins than integers: some bins hold nothing, and the top bin's threshold is past 1.
    let narrow = Binning::<u32>::equal_width(8, 0.0, 1.5);
    assert_eq!((narrow.bin(0), narrow.bin(1), narrow.bin(2)), (Some(0), Some(5), None));
    assert_eq!(Binning::<i32>::equal_width(3, 0.2, 0.8).reachable(), 0, "no integer in [0.2, 0.8]");
}

#[test]
fn any_estimate_corrects_to_the_same_bin() {
    let mut binning = Binning::<f32>::equal_width(1000, -3.0, 7.0);
    let exact: Vec<Option<usize>> = (0..2000).map(|k| binning.bin(k as f32 * 0.005 - 3.0)).collect();
    for scale in [0.0, 1e-3, 1e9, f64::INFINITY, f64::NAN] {
        binning.scale = scale;
        let found: Vec<Option<usize>> = (0..2000).map(|k| binning.bin(k as f32 * 0.005 - 3.0)).collect();
        assert_eq!(found, exact, "estimate scale {scale}");
    }
}
/// Every value's bin from the near estimates, in both precisions,
/// against the search: random bit patterns (NaN, infinities,
/// subnormals, huge integers), values around the range, and each
/// threshold with its neighbours.
fn near_agrees_with_the_search<T: Element>(binning: &Binning<T>, label: &str) -> usize {
    let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ label.len() as u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (lo, width) = (binning.lo, binning.bins as f64 / binning.scale);
    let mut values: Vec<T> = Vec::new();
    for _ in 0..20_000 {
        values.push(bytemuck::pod_read_unaligned(&next().to_le_bytes()[..T::DTYPE.size()]));
        let x = lo - width / 4.0 + (next() >> 11) as f64 / (1u64 << 53) as f64 * width * 1.5;
        values.push(T::from_f64(if T::DTYPE.is_float() { x } else { x.round() }));
    }
    for &edge in &binning.edges {
        let edge = edge.to_f64();
        values.extend(
            [round_down(T::DTYPE, edge - width / 1e9), edge, round_up(T::DTYPE, edge + width / 1e9)].map(T::from_f64),
        );
        values.extend([before(T::DTYPE, edge), up(T::DTYPE, edge)].map(T::from_f64));
    }
    values.extend([0.0, -0.0, f64::MIN_POSITIVE / 4.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY].map(T::from_f64));
    values.extend([T::LOWEST, T::HIGHEST, T::from_f64(binning.lo), T::from_f64(binning.lo + width)]);
    let mut checked = margins_agree_with_the_search(binning, &values, label);
    let nears = [
        binning.near::<f32>().map(|n| Box::new(move |x| n.bin(x)) as Box<dyn Fn(T) -> (usize, u32)>),
        binning.near::<f64>().map(|n| Box::new(move |x| n.bin(x)) as Box<dyn Fn(T) -> (usize, u32)>),
    ];
    for (precision, near) in ["f32", "f64"].iter().zip(nears) {
        let Some(near) = near else { continue };
        checked += 1;
        for &x in &values {
            let (b, counted) = near(x);
            assert!(b < binning.bins.max(1), "{label}: {precision} estimate of {x} gives bin {b}");
            let found = (counted == 1).then_some(b);
            assert_eq!(found, binning.bin(x), "{label}: {precision} estimate of {x}");
        }
    }
    checked
}

/// Every value's mark from the margins, in both precisions, against the
/// search: a bin must be the searched one, and a value not counted must
/// get the spare slot; returns how many margins there were.
fn margins_agree_with_the_search<T: Element>(binning: &Binning<T>, values: &[T], label: &str) -> usize {
    let margins = [
        binning.margins::<f32>().map(|m| Box::new(move |x| m.bin(x)) as Box<dyn Fn(T) -> u32>),
        binning.margins::<f64>().map(|m| Box::new(move |x| m.bin(x)) as Box<dyn Fn(T) -> u32>),
    ];
    let mut checked = 0;
    for (precision, margins) in ["f32", "f64"].iter().zip(margins) {
        let Some(margins) = margins else { continue };
        checked += 1;
        for &x in values {
            let mark = margins(x);
            let searched = binning.bin(x);
            match mark {
                UNSURE => assert!(searched.is_some(), "{label}: {precision} marks {x} unsure, not counted"),
                mark if mark as usize == binning.bins => assert_eq!(searched, None, "{label}: {precision} {x}"),
                mark => assert_eq!(Some(mark as usize), searched, "{label}: {precision} margins of {x}"),
            }
        }
    }
    checked
}

#[test]
fn margins_leave_few_values_unsure_and_none_for_aligned_integers() {
    let binning = Binning::<f32>::equal_width(256, 0.5, 1.5);
    let margins = binning.margins::<f32>().expect("margins of an ordinary range");
    let values = (0..100_000).map(|k| 0.5 + k as f32 / 100_000.0);
    let unsure = values.filter(|&x| margins.bin(x) == UNSURE).count();
    assert!(unsure < 100, "{unsure} of 100,000 unsure");
    // Integer keys: the estimate is exact, so nothing is unsure.
    for binning in [Binning::<i32>::keys(1000), Binning::<i32>::equal_width(100, 0.0, 100.0)] {
        let margins = binning.margins::<f32>().expect("margins of integer keys");
        assert!((0..100).all(|x| margins.bin(x) == x as u32), "{binning:?}");
    }
}

fn up(dtype: DType, x: f64) -> f64 {
    match dtype {
        DType::F64 => x.next_up(),
        DType::F32 => (x as f32).next_up() as f64,
        DType::I32 | DType::U32 => x + 1.0,
    }
}

fn near_is_exact_for<T: Element>() {
    let ranges: [(usize, f64, f64); 12] = [
        (100, -1.0, 1.0),
        (1, -5.0, 5.0),
        (7, -20.5, 30.25),
        (1000, -3.0, 7.0),
        (5000, -50.0, 50.0),
        (333, -2_147_483_648.0, 2_147_483_647.5),
        (1000, 0.0, 4.0e9),
        (10, -1e30, 1e30),
        (8, 0.0, 1.5),
        (1 << 16, 0.0, 1.0),
        (64, 0.1, 0.1 + 1e-6),
        // Edges closer than the rounding of `lo`: no estimate is near.
        (100, 1e15, 1e15 + 1.0),
    ];
    let mut checked = 0;
    for (bins, lo, hi) in ranges {
        let binning = Binning::<T>::equal_width(bins, lo, hi);
        checked += near_agrees_with_the_search(&binning, &format!("{} {bins} [{lo}, {hi}]", T::DTYPE));
    }
    for n in [1, 2, 100, 4097] {
        checked += near_agrees_with_the_search(&Binning::<T>::keys(n), &format!("{} keys {n}", T::DTYPE));
    }
    assert!(checked >= 16, "{}: only {checked} near estimates", T::DTYPE);
    // The common case is near in f32.
    assert!(Binning::<T>::equal_width(100, -1.0, 1.0).near::<f32>().is_some());
    assert!(Binning::<T>::equal_width(100, -1.0, 1.0).margins::<f32>().is_some());
}

#[test]
fn near_estimates_give_the_searched_bin_for_every_type() {
    near_is_exact_for::<f32>();
    near_is_exact_for::<f64>();
    near_is_exact_for::<i32>();
    near_is_exact_for::<u32>();
}
