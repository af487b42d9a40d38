# Four small changes to the whisper.cpp that whisper-rs-sys 0.15.0 vendors (1.8.3), applied to
# the copy its build script makes under target/ (the cargo registry is never touched).
# `.cargo/config.toml` hands this file to whisper.cpp's CMake as CMAKE_PROJECT_INCLUDE, which
# CMake runs after each project() call; the first call patches, later ones find the marker.
#
# 1. The encoder can be stopped mid-pass. whisper.cpp checks its abort callback only between
#    graphs, so a speculative transcription made stale by more speech ran its whole encoder
#    pass (~300 ms here) and held up the next one. ggml's CPU backend checks the callback
#    after every node; whisper.cpp just never handed it over for the encoder's graphs.
# 2. The decoder's caches are zeroed by handing their pages back to the kernel (they read as
#    zero and become resident again only when written) instead of writing zeros over them.
#    The cross-attention cache and the flash-attention pad are sized for the full 30 s window
#    (19 + 3 MB for base), the self-attention cache for 448 tokens (6 MB, zeroed again before
#    every transcription); Sori's windows are 384-600 positions and its commands a few dozen
#    tokens, so about 25 MB of each command's memory never gets touched.
# 3. The scheduler's graph scratch (1.6 MB for each of the four graphs) is not zeroed: ggml
#    writes each tensor's header before reading it, and a command's graphs use a fraction.
# 4. The prompt's decoding computes the logits of two rows, not of every token: whisper reads
#    only the last one's (the first token) and the first one's (its no-speech probability).
#    Each row is a 51865 × 512 product and 207 KB; a prompt with the wake phrase is 8 tokens,
#    with names from a music library up to about 60 (12 MB and some 3 GFLOP per
#    transcription, and a command is transcribed several times while it is spoken).
#
# The exact text of each change is checked: a different whisper.cpp stops the build here
# with a message, rather than building something unpatched without saying so.

set(_sori_src "${CMAKE_SOURCE_DIR}/src/whisper.cpp")
if(NOT EXISTS "${_sori_src}")
    return()
endif()
file(READ "${_sori_src}" _sori_text)
string(FIND "${_sori_text}" "/* sori-patched */" _sori_done)
if(NOT _sori_done EQUAL -1)
    return()
endif()

# Replaces `old`, which must occur exactly `times` times, with `new`.
function(_sori_replace times old new)
    string(REPLACE "${old}" "" _rest "${_sori_text}")
    string(LENGTH "${_sori_text}" _all)
    string(LENGTH "${_rest}" _left)
    string(LENGTH "${old}" _one)
    math(EXPR _found "(${_all} - ${_left}) / ${_one}")
    if(NOT _found EQUAL times)
        message(FATAL_ERROR "patches/whisper-cpp.cmake: this whisper.cpp differs from the one "
            "the patch was written for (whisper-rs-sys 0.15.0); expected ${times}, found "
            "${_found} of:\n${old}\n"
            "Update the patch, or remove CMAKE_PROJECT_INCLUDE from .cargo/config.toml.")
    endif()
    string(REPLACE "${old}" "${new}" _sori_text "${_sori_text}")
    set(_sori_text "${_sori_text}" PARENT_SCOPE)
endfunction()

# 1. The scheduler's compute helper takes the abort callback and hands it to every backend.
_sori_replace(1 "                      bool   sched_reset = true) {
    for (int i = 0; i < ggml_backend_sched_get_n_backends(sched); ++i) {
        ggml_backend_t backend = ggml_backend_sched_get_backend(sched, i);
        ggml_backend_dev_t dev = ggml_backend_get_device(backend);
        ggml_backend_reg_t reg = dev ? ggml_backend_dev_backend_reg(dev) : nullptr;
"
"                      bool   sched_reset = true,
       ggml_abort_callback   abort_callback = nullptr,
                      void * abort_callback_data = nullptr) {
    for (int i = 0; i < ggml_backend_sched_get_n_backends(sched); ++i) {
        ggml_backend_t backend = ggml_backend_sched_get_backend(sched, i);
        ggml_backend_dev_t dev = ggml_backend_get_device(backend);
        ggml_backend_reg_t reg = dev ? ggml_backend_dev_backend_reg(dev) : nullptr;

        auto * fn_set_abort = (ggml_backend_set_abort_callback_t) ggml_backend_reg_get_proc_address(reg, \"ggml_backend_set_abort_callback\");
        if (fn_set_abort) {
            fn_set_abort(backend, abort_callback, abort_callback_data);
        }
")
# ... and the encoder's three graphs (conv, encoder, cross) pass theirs: the conv graph's call
_sori_replace(1 "ggml_graph_compute_helper(sched, gf, n_threads)) {
                return false;
            }
        } else {"
"ggml_graph_compute_helper(sched, gf, n_threads, true, abort_callback, abort_callback_data)) {
                return false;
            }
        } else {")
# (the encoder and cross graphs: the decoder's call reads differently)
_sori_replace(2 "            return false;
        }

        if (!ggml_graph_compute_helper(sched, gf, n_threads)) {"
"            return false;
        }

        if (!ggml_graph_compute_helper(sched, gf, n_threads, true, abort_callback, abort_callback_data)) {")

# 2. A helper that zeroes a host buffer with madvise (Linux: private anonymous memory, which
#    ggml's CPU buffers are, reads back as zero after MADV_DONTNEED) ...
_sori_replace(1 "static bool whisper_kv_cache_init("
"#ifdef __linux__
#include <sys/mman.h>
#include <unistd.h>
#endif

// Sori: zeroes a buffer by giving its whole pages back to the kernel, memset for the rest.
static void sori_buffer_zero(ggml_backend_buffer_t buffer) {
#ifdef __linux__
    if (ggml_backend_buffer_is_host(buffer)) {
        uint8_t * base = (uint8_t *) ggml_backend_buffer_get_base(buffer);
        const size_t size = ggml_backend_buffer_get_size(buffer);
        const uintptr_t page = (uintptr_t) sysconf(_SC_PAGESIZE);
        uint8_t * lo = (uint8_t *) (((uintptr_t) base + page - 1) & ~(page - 1));
        uint8_t * hi = (uint8_t *) (((uintptr_t) base + size) & ~(page - 1));
        if (hi > lo && madvise(lo, hi - lo, MADV_DONTNEED) == 0) {
            memset(base, 0, lo - base);
            memset(hi, 0, base + size - hi);
            return;
        }
    }
#endif
    ggml_backend_buffer_clear(buffer, 0);
}

static bool whisper_kv_cache_init(")
# ... used where a cache is made and where it is cleared before each transcription.
_sori_replace(2 "ggml_backend_buffer_clear(cache.buffer, 0);" "sori_buffer_zero(cache.buffer);")

# 3. The graph scratch is allocated without zeroing.
_sori_replace(1 "    std::vector<uint8_t> meta;
};"
"    // Sori: a byte that is not zeroed when the vector grows.
    struct sori_byte { uint8_t b; sori_byte() {} };
    std::vector<sori_byte> meta;
};")

# 4. The graph keeps the first and the last row when only the last one's logits are wanted ...
_sori_replace(1 "    struct ggml_tensor * logits = ggml_mul_mat(ctx0, model.d_te, cur);"
"    // Sori: the first row (no-speech probability) and the last (the next token) only
    bool sori_two_rows = !worst_case && !save_alignment_heads_QKs && n_tokens > 2;
    for (int i = 0; sori_two_rows && i < n_tokens - 1; ++i) {
        sori_two_rows = batch.logits[i] == 0;
    }
    if (sori_two_rows) {
        cur = ggml_concat(ctx0,
                ggml_view_2d(ctx0, cur, cur->ne[0], 1, cur->nb[1], 0),
                ggml_view_2d(ctx0, cur, cur->ne[0], 1, cur->nb[1], (n_tokens - 1)*cur->nb[1]), 1);
    }

    struct ggml_tensor * logits = ggml_mul_mat(ctx0, model.d_te, cur);")
# ... and the copy puts those two rows where whisper reads them.
_sori_replace(1 "    logits_out.resize(n_tokens*n_vocab);
    for (int i = 0; i < n_tokens; i++) {"
"    logits_out.resize(n_tokens*n_vocab);
    if (logits->ne[1] == 2 && n_tokens > 2) {
        ggml_backend_tensor_get(logits, logits_out.data(), 0, sizeof(float)*n_vocab);
        ggml_backend_tensor_get(logits, logits_out.data() + n_vocab*(n_tokens - 1), sizeof(float)*n_vocab, sizeof(float)*n_vocab);
    }
    for (int i = 0; i < n_tokens && logits->ne[1] == n_tokens; i++) {")

file(WRITE "${_sori_src}" "/* sori-patched */\n${_sori_text}")
message(STATUS "Sori: patched ${_sori_src} (patches/whisper-cpp.cmake)")
