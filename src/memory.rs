//! Giving freed memory back to the system. An engine that drops its working memory between
//! commands (whisper's state, Piper's arena) frees it to the allocator, and glibc keeps freed
//! heap pages resident: on a 512 MB device they are worth more to everything else.

/// Allocations of at least this size get a mapping of their own (glibc's `M_MMAP_THRESHOLD`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const OWN_MAPPING: libc::c_int = 512 * 1024;

/// Makes every big allocation (an engine's buffers, an arena's blocks) a mapping of its own,
/// unmapped the moment it is freed. glibc's default threshold rises to the size of each big
/// block freed (up to 32 MB), so after the first command whisper's and Piper's buffers moved
/// onto the threads' heaps, where what they left between live blocks stayed resident: the
/// daemon kept 22 MB after its first reply and its second command peaked 30 MB above the first.
/// A fixed threshold also turns that adjustment off. Idempotent: called at start and by the
/// engines, so a program using them as a library gets it too.
pub fn configure() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning; it takes the allocator's own locks.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, OWN_MAPPING);
    }
}

/// Returns the allocator's free pages to the kernel (glibc's `malloc_trim`); a few
/// milliseconds, so only after an engine has released something big.
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only hands free pages back to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}
