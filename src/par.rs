//! Splitting a job in two halves that run at once: the one place that decides when a split
//! pays and what happens when a half panics.
//!
//! A half that panics is never swallowed: the panic is resumed on the caller once both halves
//! have ended, as if the work had run on one thread. (A half that quietly fails would turn a
//! bug into a partial result, and a partial inventory can read as GO.)

/// Work of this many items (VMs, records) or more is split over two threads; below it, the
/// cost of a thread is more than what it saves.
pub const SPLIT_FROM: usize = 1 << 14;

/// Runs `a` on this thread and `b` on a scoped thread, and returns both results. A panic in
/// either is resumed here after both have ended (`a`'s first when both panic).
pub fn join<A, B: Send>(a: impl FnOnce() -> A, b: impl FnOnce() -> B + Send) -> (A, B) {
    std::thread::scope(|s| {
        let other = s.spawn(b);
        // Should `a` panic, the scope waits for `b` and then resumes `a`'s panic.
        let a = a();
        let b = other
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (a, b)
    })
}

/// [`join`] when `items` is at least [`SPLIT_FROM`], else `a` then `b` on this thread.
pub fn join_if<A, B: Send>(
    items: usize,
    a: impl FnOnce() -> A,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if items >= SPLIT_FROM {
        join(a, b)
    } else {
        let a = a();
        (a, b())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_both_results_in_order() {
        assert_eq!(join(|| 1, || "two"), (1, "two"));
        assert_eq!(join_if(0, || 1, || 2), (1, 2));
        assert_eq!(join_if(SPLIT_FROM, || 1, || 2), (1, 2));
    }

    #[test]
    fn runs_the_halves_on_two_threads_only_at_scale() {
        let here = std::thread::current().id();
        let (_, other) = join_if(SPLIT_FROM, || (), || std::thread::current().id());
        assert_ne!(other, here);
        let (_, other) = join_if(SPLIT_FROM - 1, || (), || std::thread::current().id());
        assert_eq!(other, here);
    }

    #[test]
    fn a_panic_in_either_half_reaches_the_caller() {
        let second = std::panic::catch_unwind(|| join(|| 1, || -> u8 { panic!("second half") }));
        let payload = second.expect_err("the second half's panic is resumed");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"second half"));
        let first = std::panic::catch_unwind(|| join(|| -> u8 { panic!("first half") }, || 1));
        let payload = first.expect_err("the first half's panic is resumed");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"first half"));
    }
}
