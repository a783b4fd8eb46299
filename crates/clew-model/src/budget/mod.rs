//! Memory a decoder may allocate, granted before it allocates.
//!
//! A wire payload can be much smaller than what it decodes into: an empty
//! thrift struct is one byte and becomes a [`crate::Span`] of ~200 bytes; a
//! list header can declare millions of elements. Decoders therefore *charge*
//! a [`DecodeBudget`] for every span, tag, log and reference before they
//! build it, and stop with a [`BudgetError`] the moment a request wants more
//! than it was granted. The budget is sans-I/O: where the bytes come from (a
//! process-wide in-flight budget, a fixed allowance in a test) is the
//! caller's business, expressed by a [`MemoryGrant`].
//!
//! Two limits tell "never" from "not now": a request over
//! [`DecodeLimits::max_spans`] or [`DecodeLimits::max_bytes`] can never be
//! accepted (HTTP 413, gRPC `INVALID_ARGUMENT`), while a grant that refuses
//! to grow means the process is busy (HTTP 503 + `Retry-After`, gRPC
//! `RESOURCE_EXHAUSTED`).

use std::mem::size_of;

pub mod shape;

/// What one request may decode into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Most spans one request may carry.
    pub max_spans: usize,
    /// Most bytes of decoded values (spans, tags, logs, references, copies
    /// of repaired strings) one request may allocate.
    pub max_bytes: usize,
}

impl DecodeLimits {
    /// Limits for tools and tests that decode trusted input: a large but
    /// finite allowance, so even they cannot be made to allocate without bound.
    pub const GENEROUS: DecodeLimits = DecodeLimits {
        max_spans: 1_000_000,
        max_bytes: 1 << 30,
    };
}

/// Why decoding stopped before it allocated more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetError {
    /// The request holds more spans than any request may.
    TooManySpans {
        /// The per-request limit.
        max: usize,
    },
    /// The request decodes into more memory than any request may.
    TooLarge {
        /// The per-request limit in bytes.
        max: usize,
    },
    /// The process is holding as much in-flight data as it may; retry later.
    Exhausted,
}

impl std::fmt::Display for BudgetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BudgetError::TooManySpans { max } => write!(f, "request holds more than {max} spans"),
            BudgetError::TooLarge { max } => {
                write!(f, "request decodes into more than {max} bytes")
            }
            BudgetError::Exhausted => {
                f.write_str("server is at its in-flight memory limit; retry later")
            }
        }
    }
}

impl std::error::Error for BudgetError {}

impl BudgetError {
    /// True when retrying the same request later can succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, BudgetError::Exhausted)
    }
}

/// A source of memory a budget can draw on when its allowance runs out.
pub trait MemoryGrant {
    /// Reserves `bytes` more; false when they are not available now.
    fn try_grow(&mut self, bytes: usize) -> bool;
}

/// Grows in steps of this many bytes, so a shared grant (an atomic counter)
/// is touched once per step, not once per tag.
const GRANT_STEP: usize = 256 * 1024;

/// Counts what a decoder allocates against its limits and its grant.
pub struct DecodeBudget<'g> {
    limits: DecodeLimits,
    used: usize,
    spans: usize,
    /// Bytes granted so far (`used <= granted` after every successful charge).
    granted: usize,
    grant: Option<&'g mut dyn MemoryGrant>,
}

impl std::fmt::Debug for DecodeBudget<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodeBudget")
            .field("limits", &self.limits)
            .field("used", &self.used)
            .field("spans", &self.spans)
            .field("granted", &self.granted)
            .finish()
    }
}

impl<'g> DecodeBudget<'g> {
    /// A budget whose whole `limits.max_bytes` is available up front.
    pub fn new(limits: DecodeLimits) -> Self {
        DecodeBudget {
            limits,
            used: 0,
            spans: 0,
            granted: limits.max_bytes,
            grant: None,
        }
    }

    /// A budget that draws on `grant` as it goes (nothing granted up front).
    pub fn with_grant(limits: DecodeLimits, grant: &'g mut dyn MemoryGrant) -> Self {
        DecodeBudget {
            limits,
            used: 0,
            spans: 0,
            granted: 0,
            grant: Some(grant),
        }
    }

    /// Charges `bytes` about to be allocated.
    #[inline]
    pub fn charge(&mut self, bytes: usize) -> Result<(), BudgetError> {
        let used = self.used.saturating_add(bytes);
        if used > self.granted {
            self.grow(used)?;
        }
        self.used = used;
        Ok(())
    }

    /// Charges one value of type `T`.
    #[inline]
    pub fn charge_for<T>(&mut self) -> Result<(), BudgetError> {
        self.charge(size_of::<T>())
    }

    /// Charges `n` values of type `T` (a vector about to be reserved).
    #[inline]
    pub fn charge_many<T>(&mut self, n: usize) -> Result<(), BudgetError> {
        self.charge(size_of::<T>().saturating_mul(n))
    }

    /// Counts one more span (and charges its size).
    #[inline]
    pub fn charge_span(&mut self) -> Result<(), BudgetError> {
        if self.spans >= self.limits.max_spans {
            return Err(BudgetError::TooManySpans {
                max: self.limits.max_spans,
            });
        }
        self.spans += 1;
        self.charge_for::<crate::Span>()
    }

    /// Counts `n` more spans at once (and charges their size): what a
    /// pre-scan found in a payload about to be parsed.
    pub fn charge_spans(&mut self, n: usize) -> Result<(), BudgetError> {
        self.check_spans(n)?;
        self.spans += n;
        self.charge_many::<crate::Span>(n)
    }

    /// Checks, before reading a list, that `declared` more spans could fit.
    pub fn check_spans(&self, declared: usize) -> Result<(), BudgetError> {
        if self.spans.saturating_add(declared) > self.limits.max_spans {
            return Err(BudgetError::TooManySpans {
                max: self.limits.max_spans,
            });
        }
        Ok(())
    }

    /// Bytes charged so far.
    pub fn used(&self) -> usize {
        self.used
    }

    /// Spans counted so far.
    pub fn spans(&self) -> usize {
        self.spans
    }

    /// The limits this budget enforces.
    pub fn limits(&self) -> DecodeLimits {
        self.limits
    }

    #[cold]
    fn grow(&mut self, needed: usize) -> Result<(), BudgetError> {
        if needed > self.limits.max_bytes {
            return Err(BudgetError::TooLarge {
                max: self.limits.max_bytes,
            });
        }
        let Some(grant) = self.grant.as_mut() else {
            // `granted == max_bytes` without a grant, so this is unreachable;
            // refusing is still the safe answer.
            return Err(BudgetError::TooLarge {
                max: self.limits.max_bytes,
            });
        };
        let target = needed.saturating_add(GRANT_STEP).min(self.limits.max_bytes);
        let step = target - self.granted;
        if !grant.try_grow(step) {
            return Err(BudgetError::Exhausted);
        }
        self.granted = target;
        Ok(())
    }
}

impl Default for DecodeBudget<'_> {
    fn default() -> Self {
        DecodeBudget::new(DecodeLimits::GENEROUS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Pool(usize);
    impl MemoryGrant for Pool {
        fn try_grow(&mut self, bytes: usize) -> bool {
            if bytes <= self.0 {
                self.0 -= bytes;
                true
            } else {
                false
            }
        }
    }

    const LIMITS: DecodeLimits = DecodeLimits {
        max_spans: 3,
        max_bytes: 1 << 20,
    };

    #[test]
    fn span_count_is_a_hard_limit() {
        let mut b = DecodeBudget::new(LIMITS);
        for _ in 0..3 {
            b.charge_span().expect("within the limit");
        }
        assert_eq!(b.charge_span(), Err(BudgetError::TooManySpans { max: 3 }));
        assert_eq!(b.check_spans(1), Err(BudgetError::TooManySpans { max: 3 }));
    }

    #[test]
    fn bytes_past_the_limit_can_never_fit() {
        let mut b = DecodeBudget::new(LIMITS);
        b.charge(1 << 20).expect("exactly the limit");
        let err = b.charge(1).expect_err("one byte too many");
        assert_eq!(err, BudgetError::TooLarge { max: 1 << 20 });
        assert!(!err.is_retryable());
    }

    #[test]
    fn a_grant_is_drawn_in_steps_and_its_refusal_is_retryable() {
        let mut pool = Pool(GRANT_STEP + 100);
        {
            let mut b = DecodeBudget::with_grant(LIMITS, &mut pool);
            b.charge(100).expect("first step");
            b.charge(GRANT_STEP).expect("still inside the first step");
            let err = b.charge(GRANT_STEP).expect_err("pool is empty");
            assert_eq!(err, BudgetError::Exhausted);
            assert!(err.is_retryable());
        }
        assert_eq!(pool.0, 0, "the first step took everything");
    }
}
