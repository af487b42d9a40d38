# Two small changes to the whisper.cpp that whisper-rs-sys 0.15.0 vendors (1.8.3), applied to
# the copy its build script makes under target/ (the cargo registry is never touched).
# `.cargo/config.toml` hands this file to whisper.cpp's CMake as CMAKE_PROJECT_INCLUDE, which
# CMake runs after each project() call; the first call patches, later ones find the marker.
#
# 1. The encoder can be stopped mid-pass. whisper.cpp checks its abort callback only between
#    graphs, so a speculative transcription made stale by more speech ran its whole encoder
#    pass (~300 ms here) and held up the next one. ggml's CPU backend checks the callback
#    after every node; whisper.cpp just never handed it over for the encoder's graphs.
# 2. The cross-attention cache and the flash-attention pad are not zeroed when flash attention
#    is off. Both are sized for the full 30 s window (19 + 3 MB for base); zeroing them makes
#    every page resident, although without flash attention the decoder reads only the
#    positions the encoder has just written and the pad is never used. Sori's windows are
#    384-600 positions, so about 16 MB of each command's memory never gets touched.
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

# 2. A cache can be left unzeroed ...
_sori_replace(1 "                                 int   n_ctx) {
    const int64_t n_mem      = n_text_layer*n_ctx;"
"                                 int   n_ctx,
                                bool   clear = true) {
    const int64_t n_mem      = n_text_layer*n_ctx;")
_sori_replace(1 "    ggml_backend_buffer_clear(cache.buffer, 0);

    ggml_free(ctx);"
"    if (clear) {
        ggml_backend_buffer_clear(cache.buffer, 0);
    }

    ggml_free(ctx);")
# ... which the cross cache and the pad are, without flash attention.
_sori_replace(2 "                GGML_PAD(ctx->model.hparams.n_audio_ctx, 256))) {"
"                GGML_PAD(ctx->model.hparams.n_audio_ctx, 256), ctx->params.flash_attn)) {")

file(WRITE "${_sori_src}" "/* sori-patched */\n${_sori_text}")
message(STATUS "Sori: patched ${_sori_src} (patches/whisper-cpp.cmake)")
