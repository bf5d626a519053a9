//! CPU routes of the QR family that nalgebra does not provide in the form
//! the API needs: LAPACK-compatible compact Householder QR (`geqrf`), the
//! explicit Q from it (`orgqr`, any column range, so the complete Q and
//! orthogonal complements come out too), and two-pass modified Gram–Schmidt.
//! f32 arithmetic with f64 accumulation of norms and dot products (the host
//! counterpart of the GPU kernels' double-float accumulation).

use nalgebra::{DMatrix, DVector};

/// Householder QR in LAPACK `geqrf` form: R on and above the diagonal,
/// the vectors v below it (v(0) = 1 implied), tau with H = I − tau·v·vᵀ;
/// β = −sign(α)·‖(α, x)‖ as in LAPACK `larfg`.
pub(crate) fn geqrf(a: &DMatrix<f32>) -> (DMatrix<f32>, DVector<f32>) {
    let (m, n) = a.shape();
    let k = m.min(n);
    let mut h = a.clone();
    let mut tau = DVector::<f32>::zeros(k);
    let data = h.as_mut_slice();
    for j in 0..k {
        let (left, right) = data.split_at_mut((j + 1) * m);
        let col = &mut left[j * m..];
        let alpha = col[j] as f64;
        let xnorm2: f64 = col[j + 1..].iter().map(|&x| (x as f64) * (x as f64)).sum();
        if xnorm2 == 0.0 {
            continue;
        }
        let nrm = (alpha * alpha + xnorm2).sqrt();
        let beta = if alpha >= 0.0 { -nrm } else { nrm };
        let tj = ((beta - alpha) / beta) as f32;
        let den = alpha - beta;
        for x in col[j + 1..].iter_mut() {
            *x = (*x as f64 / den) as f32;
        }
        col[j] = beta as f32;
        tau[j] = tj;
        let v = &col[j..];
        for c in right.chunks_exact_mut(m) {
            apply_reflector(v, tj, &mut c[j..]);
        }
    }
    (h, tau)
}

/// `c ← (I − tau·v·vᵀ)·c` with v(0) = 1 (the stored v(0) is ignored).
fn apply_reflector(v: &[f32], tau: f32, c: &mut [f32]) {
    if tau == 0.0 {
        return;
    }
    let mut w = c[0] as f64;
    for (vi, ci) in v[1..].iter().zip(&c[1..]) {
        w += (*vi as f64) * (*ci as f64);
    }
    let w = (w * tau as f64) as f32;
    c[0] -= w;
    for (vi, ci) in v[1..].iter().zip(c[1..].iter_mut()) {
        *ci -= w * *vi;
    }
}

/// Columns `c0 .. c1` of Q = H_0·…·H_{k−1} (m×m) from `geqrf` output, by
/// backward accumulation (LAPACK `org2r`).
pub(crate) fn orgqr(h: &DMatrix<f32>, tau: &DVector<f32>, c0: usize, c1: usize) -> DMatrix<f32> {
    let m = h.nrows();
    let k = tau.len();
    let cols = c1 - c0;
    let mut q = DMatrix::<f32>::from_fn(m, cols, |i, j| if i == j + c0 { 1.0 } else { 0.0 });
    let hs = h.as_slice();
    let qs = q.as_mut_slice();
    for j in (0..k).rev() {
        let v = &hs[j * m + j..(j + 1) * m];
        // columns of I before j are not touched by H_j, …, H_{k−1}
        let first = j.saturating_sub(c0);
        for c in first..cols {
            apply_reflector(v, tau[j], &mut qs[c * m + j..(c + 1) * m]);
        }
    }
    q
}

/// R (rows × n) from `geqrf` output, exact zeros below the diagonal.
pub(crate) fn r_of(h: &DMatrix<f32>, rows: usize) -> DMatrix<f32> {
    let m = h.nrows();
    DMatrix::from_fn(rows, h.ncols(), |i, j| {
        if i <= j && i < m {
            h[(i, j)]
        } else {
            0.0
        }
    })
}

/// Two-pass modified Gram–Schmidt (m ≥ n): Q m×n, R n×n upper triangular.
/// A column that becomes exactly zero gets r_kk = 0 and q_k = 0.
pub(crate) fn mgs(a: &DMatrix<f32>) -> (DMatrix<f32>, DMatrix<f32>) {
    let (m, n) = a.shape();
    let mut q = a.clone();
    let mut r = DMatrix::<f32>::zeros(n, n);
    let mut c = vec![0.0f32; n];
    for k in 0..n {
        let (done, rest) = q.as_mut_slice().split_at_mut(k * m);
        let v = &mut rest[..m];
        if k > 0 {
            for _pass in 0..2 {
                for (i, ci) in c[..k].iter_mut().enumerate() {
                    let qi = &done[i * m..(i + 1) * m];
                    let d: f64 = qi
                        .iter()
                        .zip(v.iter())
                        .map(|(x, y)| *x as f64 * *y as f64)
                        .sum();
                    *ci = d as f32;
                }
                for (i, ci) in c[..k].iter().enumerate() {
                    let qi = &done[i * m..(i + 1) * m];
                    for (vr, qr) in v.iter_mut().zip(qi) {
                        *vr -= *qr * *ci;
                    }
                    r[(i, k)] += *ci;
                }
            }
        }
        let nrm = v.iter().map(|x| *x as f64 * *x as f64).sum::<f64>().sqrt() as f32;
        r[(k, k)] = nrm;
        if nrm > 0.0 {
            for x in v.iter_mut() {
                *x /= nrm;
            }
        }
    }
    (q, r)
}
