//! Stop phrases: what cuts Sori off mid-reply, in English and Korean.

/// Words that stop Sori mid-reply, compared after lower-casing and dropping punctuation.
pub const STOP_PHRASES: [&str; 19] = [
    "stop",
    "stop the alarm",
    "turn off the alarm",
    "alarm off",
    "stop the timer",
    "stop it",
    "stop stop",
    "be quiet",
    "quiet",
    "shut up",
    "cancel",
    "그만",
    "그만해",
    "그만해요",
    "멈춰",
    "조용히 해",
    "알람 꺼",
    "알람 그만",
    "그만 울려",
];

/// True if `text` is just a stop phrase ("Stop.", "그만!").
pub fn is_stop(text: &str) -> bool {
    let t: String = text
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c.is_whitespace() {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                ' '
            }
        })
        .collect();
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    STOP_PHRASES.contains(&t.as_str())
}
