use std::time::Instant;
use whisper_rs::*;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut cp = WhisperContextParameters::default(); cp.flash_attn = std::env::var("FA").is_ok(); let ctx = WhisperContext::new_with_params(&args[1], cp).unwrap();
    let mut st = ctx.create_state().unwrap();
    let ac: i32 = args[2].parse().unwrap();
    let lang = args[3].clone();
    let tinc: f32 = args[4].parse().unwrap();
    for f in &args[5..] {
        let pcm = sori::audio::wav::load_16k_mono(std::path::Path::new(f)).unwrap();
        let mut pcm2 = pcm.clone(); if pcm2.len() < 16100 { pcm2.resize(16100, 0.0); }
        for _ in 0..2 {
        let mut p = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        p.set_n_threads(std::env::var("T").map(|t| t.parse().unwrap()).unwrap_or(2)); p.set_language(Some(&lang)); p.set_no_context(true); p.set_no_timestamps(true);
        p.set_single_segment(true); p.set_print_progress(false); p.set_print_realtime(false); p.set_print_special(false);p.set_print_timestamps(false);
        p.set_audio_ctx(ac); p.set_temperature_inc(tinc);
        let t = Instant::now();
        st.full(p, &pcm2).unwrap();
        let text: String = st.as_iter().map(|s| s.to_str_lossy().unwrap().to_string()).collect();
        ctx.print_timings(); ctx.reset_timings();
        println!("{:>6} ms  {}  {}", t.elapsed().as_millis(), get_lang_str(st.full_lang_id_from_state()).unwrap_or("?"), text);
        }
    }
}
