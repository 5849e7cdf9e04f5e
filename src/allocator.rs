//! How the process's memory allocator hands memory back.
//!
//! slt allocates in large waves (a piece of the events file, the judged
//! rows, the output frames) and frees each before the next. With its
//! defaults, glibc's allocator keeps much of what is freed (one arena per
//! thread, a trim threshold that grows with the largest block freed), so
//! the process's resident memory grows with what it *once* held, not what
//! it holds: on the 1 M-case benchmark export, 1.15 GiB at peak where
//! 0.87 GiB is in use. Two arenas and a fixed 16 MiB trim threshold give
//! the memory back as it is freed.
//!
//! Fixing the trim threshold also fixes glibc's mmap threshold (no longer
//! raised as large blocks are freed) at its 128 KiB start: every block
//! larger than that was then a mapping of its own, faulted in page by page
//! and unmapped when freed, over and over in a run (on the 10 M-case
//! export, 23 s of system time for 30 s of user time). So the mmap
//! threshold is fixed too, at 32 MiB, the most glibc would raise it to on
//! its own: blocks up to that size come from the arenas and are reused.
//! Freed blocks between blocks still in use then stay resident (a trim
//! threshold only gives back the top of the heap), so between stages slt
//! hands their pages back ([`release_free_pages`]): without that, the
//! 10 M-case peak rose by 0.2–0.4 GiB.
//!
//! Only on Linux with glibc; a `MALLOC_ARENA_MAX`, `MALLOC_TRIM_THRESHOLD_`
//! or `MALLOC_MMAP_THRESHOLD_` in the environment is the user's choice and
//! left as it is.

/// Sets the allocator's arenas, trim and mmap thresholds (see the module docs).
/// Call once, first thing in `main`.
// slt's `unsafe` is here (calls into the C library, which has no safe
// binding) and in `ingest::ids`' prefetch hint; the crate denies it elsewhere.
#[allow(unsafe_code)]
pub fn give_memory_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let set = |var: &str| std::env::var_os(var).is_some();
        // SAFETY: `mallopt` only sets allocator parameters; it is called
        // before any other thread exists.
        unsafe {
            if !set("MALLOC_ARENA_MAX") {
                libc::mallopt(libc::M_ARENA_MAX, 2);
            }
            if !set("MALLOC_TRIM_THRESHOLD_") {
                libc::mallopt(libc::M_TRIM_THRESHOLD, 16 << 20);
            }
            if !set("MALLOC_MMAP_THRESHOLD_") {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
            }
        }
    }
}

/// Hands the allocator's free pages back to the system, those between
/// blocks still in use included (a trim threshold only returns the top of
/// the heap). Called between stages, after a stage's transient memory
/// (the text of the pieces read, the judging's scratch) is freed and
/// before the next stage's grows.
#[allow(unsafe_code)]
pub fn release_free_pages() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only returns free pages; nothing points at them.
    unsafe {
        libc::malloc_trim(0);
    }
}
