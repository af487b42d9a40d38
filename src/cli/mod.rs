pub mod music;
pub mod say;
pub mod skill;
pub mod wakeword;
