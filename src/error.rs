//! The one error type of the crate.

/// Everything a public call of `wgpu_linalg` can fail with.
///
/// No public call panics on user input; every GPU failure (validation, out of
/// memory, device loss) arrives here as [`Error::Gpu`] with the wgpu message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Operand shapes do not fit the operation.
    #[error("{op}: shape mismatch: expected {expected}, got {got}")]
    Shape {
        op: &'static str,
        expected: String,
        got: String,
    },
    /// A Cholesky pivot was not positive.
    #[error("matrix is not positive definite (pivot at column {column})")]
    NotPositiveDefinite { column: usize },
    /// An exactly zero pivot was met.
    #[error("matrix is singular (zero pivot at column {column})")]
    Singular { column: usize },
    /// NaN or infinity in an input.
    #[error("{op}: input holds NaN or infinity")]
    NonFinite { op: &'static str },
    /// An iterative method hit its iteration limit.
    #[error("{op}: no convergence after {iterations} iterations")]
    NoConvergence { op: &'static str, iterations: usize },
    /// The GPU route was asked for but no adapter is available.
    #[error("no GPU adapter is available (or the context is CPU-only)")]
    NoGpu,
    /// A buffer would exceed the adapter's limits.
    #[error("{op}: needs {bytes} bytes, over the adapter limit of {limit} bytes")]
    TooLarge {
        op: &'static str,
        bytes: u64,
        limit: u64,
    },
    /// A batched call failed on one matrix of the batch.
    #[error("matrix {index} of the batch: {source}")]
    InBatch { index: usize, source: Box<Error> },
    /// A configuration file or variable could not be used (tuning table).
    #[error("configuration: {0}")]
    Config(String),
    /// A wgpu error: validation, out of memory, internal, device lost.
    #[error("GPU error: {0}")]
    Gpu(String),
}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn shape(
        op: &'static str,
        expected: impl Into<String>,
        got: impl Into<String>,
    ) -> Self {
        Error::Shape {
            op,
            expected: expected.into(),
            got: got.into(),
        }
    }
}
