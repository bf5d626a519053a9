//! Timing and input helpers shared by the `bench` and `tune` examples.
#![allow(dead_code)]

use std::time::Instant;

use nalgebra::DMatrix;

/// A small seeded generator (examples need no `rand` dependency).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
    pub fn matrix(&mut self, m: usize, n: usize) -> DMatrix<f32> {
        DMatrix::from_fn(m, n, |_, _| self.next())
    }
}

/// Median wall time in ms of one call of `f`. Warms up first (pipeline
/// creation and low idle clocks stay out of the numbers), then takes about one
/// second of samples (5 to 30; `quick` halves). When one call takes under
/// 1 ms, each sample runs it repeatedly (up to 64 times, about 2 ms) and
/// divides, as the PyTorch peer script does. `sync` is called after each
/// sample's calls (GPU work is asynchronous).
pub fn median_ms(quick: bool, mut f: impl FnMut(), mut sync: impl FnMut()) -> f64 {
    f();
    sync();
    // Keep the device busy for about 300 ms first: a GPU that idled (while
    // a CPU route was timed, say) runs at a low clock, and short bursts do
    // not bring it back up (seen on an H200: 4.3 ms instead of 0.8 ms).
    let busy = Instant::now();
    let mut calls = 0;
    while busy.elapsed().as_secs_f64() < 0.3 && calls < 2000 {
        f();
        calls += 1;
        if calls % 16 == 0 {
            sync();
        }
    }
    sync();
    let t = Instant::now();
    f();
    sync();
    let warm = t.elapsed().as_secs_f64() * 1e3;
    let inner = if warm < 1.0 {
        ((2.0 / warm.max(1e-3)).ceil() as usize).clamp(1, 64)
    } else {
        1
    };
    let mut reps = ((1000.0 / (warm * inner as f64).max(1e-3)) as usize).clamp(5, 30);
    if quick {
        reps = reps.div_ceil(2).max(3);
    }
    let mut samples: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..inner {
                f();
            }
            sync();
            t.elapsed().as_secs_f64() * 1e3 / inner as f64
        })
        .collect();
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[samples.len() / 2]
}

/// Today's date (UTC) from the system clock, as YYYY-MM-DD.
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    // civil-from-days (H. Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}-{m:02}-{d:02}")
}

/// The value following `--name` on the command line.
pub fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

pub fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

/// Checks a product `c` ≈ A·B (f32 accumulation) against float64, for
/// every row and the columns `cols`: |C − AB|ᵢⱼ ≤ k·ε(f32)·(|A||B|)ᵢⱼ.
/// Returns the largest error relative to its bound and the normwise error
/// ‖C − AB‖_F / ‖|A||B|‖_F over the checked columns; `Err` names the worst
/// element where the bound fails.
pub fn check_product(
    a32: &DMatrix<f32>,
    b: &DMatrix<f32>,
    c: &DMatrix<f32>,
    cols: &[usize],
) -> Result<(f64, f64), String> {
    let (m, k) = a32.shape();
    let eps = f32::EPSILON as f64;
    let (mut worst, mut at) = (0.0f64, (0, 0));
    let (mut err2, mut ref2) = (0.0f64, 0.0f64);
    for &j in cols {
        let mut exact = vec![0.0f64; m];
        let mut abs = vec![0.0f64; m];
        for l in 0..k {
            let blj = f64::from(b[(l, j)]);
            if blj == 0.0 {
                continue;
            }
            for (i, &x) in a32.column(l).iter().enumerate() {
                exact[i] += f64::from(x) * blj;
                abs[i] += (f64::from(x) * blj).abs();
            }
        }
        for i in 0..m {
            let err = (f64::from(c[(i, j)]) - exact[i]).abs();
            let bound = k as f64 * eps * abs[i] + f64::from(f32::MIN_POSITIVE);
            // a NaN counts as an infinite error
            let ratio = if err.is_nan() {
                f64::INFINITY
            } else {
                err / bound
            };
            if ratio > worst {
                worst = ratio;
                at = (i, j);
            }
            err2 += err * err;
            ref2 += abs[i] * abs[i];
        }
    }
    let normwise = err2.sqrt() / ref2.sqrt().max(f64::MIN_POSITIVE);
    if worst > 1.0 {
        return Err(format!(
            "C[{}, {}] is off by {worst:.3} times the bound k·ε·(|A||B|)ᵢⱼ (normwise {normwise:.3e})",
            at.0, at.1
        ));
    }
    Ok((worst, normwise))
}
