//! Mapping over a stage's items (files, environments) on the thread pool when there are
//! enough of them to be worth it.
//!
//! A handful is mapped on the calling thread instead. On a fresh run the pool's threads
//! are busy compiling schemas and templates (see [`crate::run`]) while files are parsed,
//! environments resolved and validated; a job handed to them waits until one is free, and
//! a small project's work takes less time here than that wait. Results keep the items'
//! order. (Rendering and golden comparison, which come after, always use the pool.)

use rayon::prelude::*;

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
