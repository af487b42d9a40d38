//! Giving freed memory back to the system. An engine that drops its working memory between
//! commands (whisper's state, Piper's arena) frees it to the allocator, and glibc keeps freed
//! heap pages resident: on a 512 MB device they are worth more to everything else.

/// Returns the allocator's free pages to the kernel (glibc's `malloc_trim`); a few
/// milliseconds, so only after an engine has released something big.
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only hands free pages back to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}
