pub mod say;
pub mod wakeword;
