//! Mapping over a stage's items (files, environments) on the thread pool when there are
//! enough of them to be worth it.
//!
//! A handful is mapped on the calling thread instead. On a fresh run the pool's threads
//! are busy compiling schemas and templates (see [`crate::run`]) while files are parsed,
//! environments resolved and validated; a job handed to them waits until one is free, and
//! a small project's work takes less time here than that wait. Results keep the items'
//! order. (Rendering and golden comparison, which come after, always use the pool.)

use rayon::prelude::*;

/// Stack of each pool thread. Templates run on the pool, and a template may build a value
/// nested as deep as its fuel allows (about 100,000 levels), which minijinja prints, compares
/// and frees by recursion: rayon's default of 2 MiB overflows at about 10,000. The stack is
/// reserved address space; only what a thread uses is ever touched.
const POOL_STACK: usize = 512 * 1024 * 1024;

/// Starts the global pool with [`POOL_STACK`] per thread; a no-op once a pool is running.
pub fn start_pool() {
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(POOL_STACK)
        .build_global();
}

/// From this many items on, they are mapped on the pool.
const PARALLEL_FROM: usize = 16;

/// `f` of every item of `items`, in order (`items` may be references: `slice.iter().collect()`).
pub(crate) fn map<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync + Send) -> Vec<R> {
    if items.len() < PARALLEL_FROM {
        items.into_iter().map(f).collect()
    } else {
        items.into_par_iter().map(f).collect()
    }
}
